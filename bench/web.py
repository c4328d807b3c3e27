"""The page side: a gzip server, page weight, load timings and layout shift in Chromium, and Lighthouse."""

from __future__ import annotations

import gzip
import html
import json
import mimetypes
import re
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from harness import PEERS, NotMeasured, child_env, run

HOST = "127.0.0.1"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml", "application/manifest+json")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}, "whole page": {"width": 1280, "height": 12000}}
LIGHTHOUSE = "12.2.3"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Installed before the page's own scripts: layout shifts, when chart images load, when every chart is interactive.
OBSERVE = r"""
window.__bench = {cls: 0, shifts: 0, sources: [], images: [], interactive: null};
const describe = (node) => !node ? "?" : node.nodeType !== 1 ? node.nodeName : node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") +
  (typeof node.className === "string" && node.className ? "." + node.className.trim().split(/\s+/).join(".") : "");
const box = (r) => `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}x${Math.round(r.height)}`;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__bench.cls += entry.value;
    window.__bench.shifts += 1;
    for (const s of entry.sources || []) {
      window.__bench.sources.push(`${describe(s.node)} ${box(s.previousRect)} -> ${box(s.currentRect)}`);
    }
  }
}).observe({type: "layout-shift", buffered: true});
document.addEventListener("load", (event) => {
  const target = event.target;
  if (target.tagName === "IMG" && target.closest(".report-chart")) window.__bench.images.push(performance.now());
}, true);
new MutationObserver(() => {
  const charts = [...document.querySelectorAll(".report-chart")];
  if (window.__bench.interactive === null && charts.length && charts.every((c) => c.dataset.interactive === "true")) {
    window.__bench.interactive = performance.now();
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ["data-interactive"]});
"""
OURS_READY = "() => window.__bench && window.__bench.interactive !== null"


@dataclass
class Hit:
    """One response of the gzip server."""

    path: str
    status: int
    raw: int
    sent: int
    content_type: str


def content_type(path: Path) -> str:
    """The Content-Type a static server sends for ``path``."""
    if path.name.endswith(".json"):
        return "application/json"
    if path.suffix == ".js":
        return "application/javascript"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def compressible(kind: str) -> bool:
    """Whether a server gzips this type."""
    return kind.startswith(COMPRESSIBLE)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    prefix: str
    hits: list[Hit]
    gzipped: dict[Path, bytes]
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    """Static files under a path prefix, gzipped when the client accepts it, over HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""

    def do_GET(self) -> None:
        """Send a file."""
        self._send(head=False)

    def do_HEAD(self) -> None:
        """Send a file's headers."""
        self._send(head=True)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        prefix = self.server.prefix
        if path in ("", "/") and prefix != "/":
            return self._redirect(prefix)
        root = self.server.root
        file = (root / path[len(prefix) :]).resolve() if path.startswith(prefix) else None
        if file is not None and file.is_relative_to(root) and file.is_dir():
            if not path.endswith("/"):
                return self._redirect(path + "/")
            file = file / "index.html"
        status = 200
        if file is None or not file.is_relative_to(root) or not file.is_file():
            status, file = 404, root / "404.html"
        body = file.read_bytes() if file.is_file() else b"not found"
        raw = len(body)
        kind = content_type(file)
        encoded = compressible(kind) and "gzip" in self.headers.get("Accept-Encoding", "")
        if encoded:
            with self.server.lock:
                if file not in self.server.gzipped:
                    self.server.gzipped[file] = gzip.compress(body, compresslevel=6, mtime=0)
                body = self.server.gzipped[file]
        self.send_response(status)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        if compressible(kind):
            self.send_header("Vary", "Accept-Encoding")
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        with self.server.lock:
            self.server.hits.append(Hit(path, status, raw, len(body), kind))
        return None


@contextmanager
def serve(root: Path, prefix: str = "/") -> Iterator[_Server]:
    """Serve ``root`` at http://127.0.0.1:<free port><prefix> from a daemon thread."""
    server = _Server((HOST, 0), _Handler)
    server.root, server.prefix, server.hits, server.gzipped, server.lock = root.resolve(), prefix, [], {}, threading.Lock()
    thread = threading.Thread(target=server.serve_forever, name="bench-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def base_url(server: _Server) -> str:
    """The URL the site is served at."""
    return f"http://{HOST}:{server.server_address[1]}{server.prefix}"


class _References(HTMLParser):
    """What an HTML page makes a browser fetch before any script runs: stylesheets, scripts, images, icon."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.vega: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and {"stylesheet", "icon"} & set(a.get("rel", "").split()) and a.get("href"):
            self.urls.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"])
        if a.get("data-vega"):
            self.vega.append(a["data-vega"])


def references(html: str, page_url: str) -> tuple[list[str], list[str]]:
    """Absolute URLs a page loads at once, and the Vega specs its charts fetch when they become interactive."""
    parser = _References()
    parser.feed(html)
    return [urljoin(page_url, u) for u in parser.urls], [urljoin(page_url, u) for u in parser.vega]


def category(kind: str, path: str) -> str:
    """The weight category of a response."""
    if "html" in kind:
        return "html"
    if "css" in kind:
        return "css"
    if "javascript" in kind:
        return "js"
    if kind.startswith("image/"):
        return "images"
    if kind.startswith("font/") or path.endswith((".woff", ".woff2")):
        return "fonts"
    return "data"


@dataclass
class Weight:
    """Bytes of a set of responses, raw and as sent gzipped, by category."""

    raw: dict[str, int] = field(default_factory=dict)
    gzip: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def add(self, kind: str, path: str, raw: int, sent: int) -> None:
        """Count one response."""
        name = category(kind, path)
        self.raw[name] = self.raw.get(name, 0) + raw
        self.gzip[name] = self.gzip.get(name, 0) + sent
        self.requests += 1

    @property
    def total_raw(self) -> int:
        return sum(self.raw.values())

    @property
    def total_gzip(self) -> int:
        return sum(self.gzip.values())

    def to_dict(self) -> dict[str, Any]:
        """The weight for results.json, in bytes."""
        return {"requests": self.requests, "raw_bytes": self.total_raw, "gzip_bytes": self.total_gzip, "raw_by_type": self.raw, "gzip_by_type": self.gzip}


def weigh_files(root: Path, prefix: str, urls: list[str]) -> Weight:
    """The weight of ``urls`` served from ``root`` by the gzip server, computed from the files (no browser needed)."""
    weight = Weight()
    for url in dict.fromkeys(urls):
        path = unquote(urlsplit(url).path)
        file = root / path[len(prefix) :]
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            continue
        body = file.read_bytes()
        kind = content_type(file)
        weight.add(kind, path, len(body), len(gzip.compress(body, compresslevel=6, mtime=0)) if compressible(kind) else len(body))
    return weight


def weigh_hits(hits: list[Hit]) -> Weight:
    """The weight of the responses a browser received."""
    weight = Weight()
    for hit in hits:
        if hit.status < 300:
            weight.add(hit.content_type, hit.path, hit.raw, hit.sent)
    return weight


def longest_source(page: str) -> str:
    """The longest text a page gives a number or a mark as its source (a ``title`` or an ``aria-label``)."""
    return max((html.unescape(found) for found in re.findall(r'(?:title|aria-label)="([^"]*)"', page)), key=len, default="")


def static_weight(site: Path, prefix: str, page: str) -> dict[str, Any]:
    """Page weight from the built files alone: before interaction (what the HTML references) and with the charts interactive."""
    url = f"http://{HOST}{prefix}{page}"
    loaded, vega = references((site / page).read_text(encoding="utf-8"), url)
    runtime = [urljoin(f"http://{HOST}{prefix}", "assets/vendor/vega/vega.min.js")] if vega else []
    return {
        "method": "files (HTML references; no browser)",
        "before": weigh_files(site, prefix, [url, *loaded]).to_dict(),
        "interactive": weigh_files(site, prefix, [url, *loaded, *runtime, *vega]).to_dict(),
    }


def launch(chromium: str | None) -> tuple[Any, Any]:
    """Playwright and a headless Chromium, or a NotMeasured saying what is missing."""
    if chromium is None:
        raise NotMeasured("no Chromium (set CHROMIUM_PATH or install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise NotMeasured(f"Playwright for Python is not installed ({error})") from None
    manager = sync_playwright().start()
    try:
        return manager, manager.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    except Exception as error:
        manager.stop()
        raise NotMeasured(f"Chromium did not start: {str(error).splitlines()[0]}") from None


def local_only(context: Any, foreign: list[str] | None = None) -> None:
    """Let the browser reach the local host only; each request to another host is refused (and added to ``foreign``)."""

    def route(handle: Any) -> None:
        if urlsplit(handle.request.url).hostname == HOST:
            handle.continue_()
            return
        if foreign is not None:
            foreign.append(handle.request.url)
        handle.abort()

    context.route("**/*", route)


def _load(browser: Any, server: _Server, url: str, viewport: dict[str, int], ready: str) -> dict[str, Any]:
    """One load of ``url`` in a fresh browser context: timings, layout shift, and every response until ready."""
    context = browser.new_context(viewport=viewport)
    foreign: list[str] = []
    local_only(context, foreign)
    page = context.new_page()
    page.add_init_script(OBSERVE)
    with server.lock:
        server.hits.clear()
    try:
        page.goto(url, wait_until="load", timeout=60_000)
        page.mouse.move(2, 2)  # a reader's first move (a page whose charts wait for one, such as a peer's, starts them)
        page.wait_for_function(ready, timeout=60_000)
        page.wait_for_timeout(1000)
        measured = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType("navigation")[0];
              const b = window.__bench || {};
              return {cls: b.cls || 0, shifts: b.shifts || 0, sources: b.sources || [], images: b.images || [], interactive: b.interactive ?? null,
                      load: nav ? nav.loadEventEnd : null, dom: nav ? nav.domContentLoadedEventEnd : null,
                      paint: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime ?? null,
                      charts: document.querySelectorAll(".report-chart").length};
            }"""
        )
    finally:
        context.close()
    with server.lock:
        hits = list(server.hits)
    images = measured.pop("images")
    # Charts drawn as images are visible when the last one has loaded; charts drawn in the HTML, at the first paint.
    paint = measured.pop("paint")
    if images:
        measured["charts_visible"] = max(images) if len(images) >= measured["charts"] else None
    else:
        measured["charts_visible"] = paint if measured["charts"] else None
    measured["hits"] = hits
    measured["foreign"] = foreign
    return measured


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def browse(
    chromium: str | None, site: Path, prefix: str, page: str, runs: int, ready: str = OURS_READY, viewports: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Load ``page`` ``runs`` times per viewport in Chromium: weight before/after interaction, load timings, CLS."""
    manager, browser = launch(chromium)
    result: dict[str, Any] = {"method": "Chromium (responses of the gzip server)", "viewports": {}}
    try:
        with serve(site, prefix) as server:
            url = base_url(server) + page
            html = (site / page).read_text(encoding="utf-8")
            loaded, _ = references(html, url)
            static_paths = {unquote(urlsplit(u).path) for u in [url, *loaded]}
            for name in viewports or tuple(VIEWPORTS):
                viewport = VIEWPORTS[name]
                loads = [_load(browser, server, url, viewport, ready) for _ in range(runs)]
                result["viewports"][name] = {
                    "runs": runs,
                    "charts_visible_ms": _median([m["charts_visible"] for m in loads]),
                    "interactive_ms": _median([m["interactive"] for m in loads]),
                    "dom_content_loaded_ms": _median([m["dom"] for m in loads]),
                    "load_ms": _median([m["load"] for m in loads]),
                    "cls_max": round(max(m["cls"] for m in loads), 4),
                    "layout_shifts_max": max(m["shifts"] for m in loads),
                    "shifted": sorted({source for m in loads for source in m["sources"]})[:8],
                }
                if name == "desktop":
                    hits = loads[0]["hits"]
                    result["before"] = weigh_hits([h for h in hits if h.path in static_paths]).to_dict()
                    result["interactive"] = weigh_hits(hits).to_dict()
                    result["responses"] = [{"path": h.path[len(prefix) - 1 :], "raw": h.raw, "gzip": h.sent} for h in hits if h.status < 300]
                    result["foreign_requests"] = sorted(set(loads[0]["foreign"]))
    finally:
        browser.close()
        manager.stop()
    return result


def lighthouse_cli() -> Path | None:
    """The Lighthouse command line installed under bench/.peers, if any."""
    cli = PEERS / "node_modules" / "lighthouse" / "cli" / "index.js"
    return cli if cli.is_file() else None


def _first_node(audit: dict[str, Any]) -> str:
    """The first element an audit flags, shortened, to say where points are lost."""
    items = (audit.get("details") or {}).get("items") or []
    node = items[0].get("node") if items and isinstance(items[0], dict) else None
    snippet = " ".join(str((node or {}).get("snippet", "")).split())
    return f"; first: {snippet[:140]}" if snippet else ""


def lighthouse(chromium: str | None, site: Path, prefix: str, page: str, runs: int, out: Path) -> dict[str, Any]:
    """Lighthouse category scores (median of ``runs``) for mobile and desktop, with the audits that cost points."""
    cli = lighthouse_cli()
    if cli is None:
        raise NotMeasured(f"Lighthouse is not installed (npm install --prefix bench/.peers lighthouse@{LIGHTHOUSE})")
    if chromium is None:
        raise NotMeasured("no Chromium for Lighthouse")
    result: dict[str, Any] = {"version": json.loads((cli.parent.parent / "package.json").read_text())["version"]}
    out.mkdir(parents=True, exist_ok=True)
    with serve(site, prefix) as server:
        url = base_url(server) + page
        for preset in ("mobile", "desktop"):
            scores: dict[str, list[float]] = {c: [] for c in CATEGORIES}
            lost: dict[str, str] = {}
            errored: set[str] = set()
            for i in range(runs):
                report = out / f"lighthouse-{preset}-{i}.json"
                cmd = ["node", str(cli), url, "--quiet", "--output=json", f"--output-path={report}", f"--only-categories={','.join(CATEGORIES)}"]
                cmd.append("--chrome-flags=--headless --no-sandbox --disable-gpu")
                if preset == "desktop":
                    cmd.append("--preset=desktop")
                sample = run(cmd, cwd=out, env=child_env(CHROME_PATH=chromium), timeout=300)
                if not report.is_file():
                    raise RuntimeError(f"Lighthouse wrote no report (exit {sample.returncode}): {sample.stderr.strip()[-800:]}")
                data = json.loads(report.read_text(encoding="utf-8"))
                for name in CATEGORIES:
                    category_data = data["categories"][name]
                    scores[name].append(round((category_data["score"] or 0) * 100))
                    for ref in category_data["auditRefs"]:
                        audit = data["audits"][ref["id"]]
                        if audit.get("scoreDisplayMode") == "error":
                            errored.add(ref["id"])
                        elif ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                            lost[ref["id"]] = (
                                f"{name}: {audit['title']}" + (f" ({audit['displayValue']})" if audit.get("displayValue") else "") + _first_node(audit)
                            )
            result[preset] = {
                "scores": {name: statistics.median(values) for name, values in scores.items()},
                "runs": runs,
                "audits_losing_points": lost,
                "audits_errored": sorted(errored),
            }
    return result
