"""The live preview: from one CSV value written to the new value in the page, in Chromium.

Ours is ``build_report.py serve`` (MkDocs' server: a file watcher, a rebuild, then every open page reloads); the peer
is Observable Framework's ``observable preview`` (a file watcher, then the page patched over a websocket). Each server
runs in its own process group on a free port of 127.0.0.1, and is stopped (the whole group) whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peer
import web
from harness import PEERS, NotMeasured, Sample, Stat, child_env, python

PAUSE_S = 1.5  # between two edits, after the page showed the last one
QUIET_S = 1.0  # a server is idle once it has printed nothing for this long and has no rebuild under way
START_S = 600.0  # for a server to start (ours builds the whole site first)
SHOWN_MS = 60_000  # for the page to show a value
PEER_PROJECT = PEERS / "preview"
# What "the page shows a value" means, on both sides: the text has "<value>%" and a chart mark's label has the value.
SHOWS = """(value) => document.body !== null && document.body.innerText.includes(value + "%") &&
  [...document.querySelectorAll("svg [aria-label]")].some((e) => e.getAttribute("aria-label").includes(value))"""
# Either half of it: a value the page already shows anywhere cannot be timed.
SHOWS_ANY = """(value) => document.body !== null && (document.body.innerText.includes(value) ||
  [...document.querySelectorAll("svg [aria-label]")].some((e) => e.getAttribute("aria-label").includes(value)))"""
BUILT = re.compile(r"Documentation built in ([\d.]+) seconds")
# The steps of an edit in our server's log, in order (the summary explains the time by them).
OUR_STEPS = ("file watch", "before the build", "build", "reload and page load")


@dataclass
class Log:
    """The lines a server printed, each with the time (``time.perf_counter``) it arrived."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, line: str) -> None:
        """Record one line now."""
        with self.lock:
            self.lines.append((time.perf_counter(), line.rstrip()))

    def after(self, start: float) -> list[tuple[float, str]]:
        """The lines that arrived at or after ``start``."""
        with self.lock:
            return [(t, line) for t, line in self.lines if t >= start]

    def first(self, text: str, start: float = 0.0) -> tuple[float, str] | None:
        """The first line at or after ``start`` that contains ``text``."""
        return next(((t, line) for t, line in self.after(start) if text in line), None)

    def idle(self, busy: tuple[str, ...], done: tuple[str, ...]) -> bool:
        """Whether nothing was printed for QUIET_S and the last line that starts work (``busy``) is followed by one that ends it."""
        with self.lock:
            lines = list(self.lines)
        if lines and time.perf_counter() - lines[-1][0] < QUIET_S:
            return False
        started = max((i for i, (_, line) in enumerate(lines) if any(b in line for b in busy)), default=-1)
        ended = max((i for i, (_, line) in enumerate(lines) if any(d in line for d in done)), default=-1)
        return started <= ended

    def tail(self, count: int = 25) -> str:
        """The last lines, for an error message."""
        with self.lock:
            return "\n".join(line for _, line in self.lines[-count:])


@dataclass
class Tool:
    """One previewing server: how to start it, when it is ready, and which of its log lines start and end a rebuild."""

    name: str
    cmd: list[str]
    cwd: Path
    ready: str
    busy: tuple[str, ...] = ()
    done: tuple[str, ...] = ()


@dataclass
class Edit:
    """One timed edit: the value written, when it was written and when the page showed it, and the server's usage meanwhile."""

    value: str
    written: float
    shown: float
    cpu_s: float
    rss_mb: float

    @property
    def seconds(self) -> float:
        return self.shown - self.written

    def sample(self) -> Sample:
        """The edit as a sample of the timings table (CPU and peak RSS of the server's process group)."""
        return Sample(seconds=self.seconds, cpu_s=self.cpu_s, rss_mb=self.rss_mb, returncode=0, stdout="", stderr="")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((web.HOST, 0))
        return int(probe.getsockname()[1])


def _pump(process: subprocess.Popen[str], log: Log) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.add(line)


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the server's whole process group: an interrupt (as Ctrl-C, so it cleans up), then a kill."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait(condition: Callable[[], bool], timeout: float, process: subprocess.Popen[str], log: Log, what: str) -> None:
    """Wait for ``condition``; an error quoting the server's log when it exits or the time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the server exited ({process.returncode}): {log.tail()[-1500:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s: {log.tail()[-1500:]}")
        time.sleep(0.05)


@contextmanager
def running(tool: Tool, timeout: float) -> Iterator[tuple[subprocess.Popen[str], Log]]:
    """The tool's server, started in its own process group and stopped on the way out, with its merged output as a Log."""
    process = subprocess.Popen(
        tool.cmd,
        cwd=tool.cwd,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    log = Log()
    reader = threading.Thread(target=_pump, args=(process, log), name=f"{tool.name}-log", daemon=True)
    reader.start()
    try:
        _wait(lambda: log.first(tool.ready) is not None, timeout, process, log, f"{tool.name} starting")
        yield process, log
    finally:
        _stop(process)
        reader.join(timeout=10)


def group_usage(group: int) -> tuple[float, float]:
    """CPU seconds (user + system, with waited-for children) of a process group's live processes, and the largest peak RSS in MB."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu, peak = 0.0, 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:
                continue
            cpu += sum(int(value) for value in fields[11:15]) / ticks
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        peak = max(peak, int(found.group(1)) / 1024 if found else 0.0)
    return cpu, peak


def _next_value(page: Any, edits: Sequence[tuple[str, str]], start: int) -> tuple[int, str, str]:
    """The first edit from ``start`` on (round the list) whose value the page shows nowhere yet."""
    for step in range(len(edits)):
        index = (start + step) % len(edits)
        value, text = edits[index]
        if not page.evaluate(SHOWS_ANY, value):
            return index, value, text
    raise RuntimeError(f"the page already shows every value the benchmark could write: {', '.join(v for v, _ in edits)}")


def _edit(page: Any, process: subprocess.Popen[str], log: Log, tool: Tool, csv: Path, value: str, text: str) -> Edit:
    """Write one edit of ``csv`` and wait until the page shows ``value``: the time from just before the write."""
    cpu_before, _ = group_usage(process.pid)
    written = time.perf_counter()
    csv.write_text(text, encoding="utf-8")
    try:
        page.wait_for_function(SHOWS, arg=value, timeout=SHOWN_MS)
    except Exception as error:
        raise RuntimeError(f"the page did not show {value}% within {SHOWN_MS / 1000:.0f} s ({error}); {tool.name} log: {log.tail()}") from None
    shown = time.perf_counter()
    cpu_after, peak = group_usage(process.pid)
    return Edit(value, written, shown, cpu_after - cpu_before, peak)


def time_edits(
    chromium: str | None, tool: Tool, url: str, csv: Path, edits: Sequence[tuple[str, str]], runs: int, timeout: float, ready: str | None = None
) -> tuple[list[Edit], Log]:
    """Start the tool, open ``url`` in Chromium and, ``runs`` times, write one edit of ``csv`` and time it until the page shows the value.

    ``edits`` are (value as the page prints it, the whole CSV); ``ready`` is a script true once the page has drawn its charts.
    The CSV is written back as it was at the end.
    """
    original = csv.read_text(encoding="utf-8")
    manager, browser = web.launch(chromium)
    done: list[Edit] = []
    try:
        with running(tool, timeout) as (process, log):
            context = browser.new_context(viewport=web.VIEWPORTS["desktop"])
            try:
                web.local_only(context)
                page = context.new_page()
                page.goto(url, wait_until="load", timeout=SHOWN_MS)
                page.mouse.move(2, 2)  # a reader's first move, as in web.browse (a page whose charts wait for one starts them)
                if ready:
                    page.wait_for_function(ready, timeout=SHOWN_MS)
                index = -1
                for _ in range(runs):
                    _wait(lambda: log.idle(tool.busy, tool.done), SHOWN_MS / 1000, process, log, f"{tool.name} idle before an edit")
                    index, value, text = _next_value(page, edits, index + 1)
                    done.append(_edit(page, process, log, tool, csv, value, text))
                    time.sleep(PAUSE_S)
            finally:
                context.close()  # before the server stops, so that no page waits on it
    finally:
        csv.write_text(original, encoding="utf-8")
        browser.close()
        manager.stop()
    return done, log


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _summary(edits: list[Edit], steps: dict[str, list[float]], extra: dict[str, Any]) -> tuple[Stat, dict[str, Any]]:
    stat = Stat([e.sample() for e in edits])
    entry = {**stat.to_dict(), "values": [e.value for e in edits], "steps_s": {name: _median(values) for name, values in steps.items()}, **extra}
    return stat, entry


def ours(
    chromium: str | None, project: Path, page_path: str, csv: str, edits: Sequence[tuple[str, str]], runs: int, timeout: float
) -> tuple[Stat, dict[str, Any]]:
    """``build_report.py serve`` in ``project``, the page at ``page_path`` (under the site's prefix), ``csv`` (relative) edited.

    The steps come from MkDocs' log: the write until "Detected file changes" (the file watcher), until "Building
    documentation" (its settle delay), the build (as MkDocs times it), and from "Reloading browsers" until the value shows.
    """
    port = free_port()
    tool = Tool(
        "build_report.py serve",
        python("build_report.py", "serve", "--dev-addr", f"{web.HOST}:{port}"),
        project,
        ready="Serving on",
        busy=("Detected file changes",),
        done=("Reloading browsers", "An error happened during the rebuild"),
    )
    done, log = time_edits(chromium, tool, f"http://{web.HOST}:{port}{page_path}", project / csv, edits, runs, timeout)
    steps: dict[str, list[float]] = {name: [] for name in OUR_STEPS}
    builds: list[int] = []
    for edit in done:
        lines = [(t, line) for t, line in log.after(edit.written) if t <= edit.shown]
        builds.append(sum("Building documentation" in line for _, line in lines))
        detected = log.first("Detected file changes", edit.written)
        building = log.first("Building documentation", detected[0]) if detected else None
        built = log.first("Documentation built in", building[0]) if building else None
        reloading = log.first("Reloading browsers", built[0]) if built else None
        match = BUILT.search(built[1]) if built else None
        if not (detected and building and built and reloading and match) or reloading[0] > edit.shown:
            continue
        spent = (detected[0] - edit.written, building[0] - detected[0], float(match.group(1)), edit.shown - reloading[0])
        for name, seconds in zip(OUR_STEPS, spent, strict=True):
            steps[name].append(seconds)
    return _summary(done, steps, {"tool": "build_report.py serve", "builds_per_edit": builds})


def framework(chromium: str | None, source: Path, csv_name: str, edits: Sequence[tuple[str, str]], runs: int, timeout: float) -> tuple[Stat, dict[str, Any]]:
    """``observable preview`` of the peer page (a fresh copy under bench/.peers, the CSVs from ``source``), ``csv_name`` edited.

    The steps come from its log: the write until it sends the page an update (its file watcher and the page's
    new code), then until the page shows the value (the page's cells run again and redraw).
    """
    cli = peer.framework_cli()
    project = peer.prepare(source, PEER_PROJECT)
    port = free_port()
    cmd = ["node", str(cli), "preview", "--host", web.HOST, "--port", str(port), "--no-open"]
    tool = Tool("observable preview", cmd, project, ready="Observable Framework")
    csv = project / "src" / "data" / csv_name
    if not csv.is_file():
        raise NotMeasured(f"the peer project has no {csv_name}")
    done, log = time_edits(chromium, tool, f"http://{web.HOST}:{port}/", csv, edits, runs, timeout, ready=peer.PEER_READY)
    steps: dict[str, list[float]] = {"file watch and update sent": [], "page update": []}
    for edit in done:
        sent = log.first("\u2193", edit.written)  # the server's log marks each message it sends the page with a down arrow
        if sent and sent[0] <= edit.shown:
            steps["file watch and update sent"].append(sent[0] - edit.written)
            steps["page update"].append(edit.shown - sent[0])
    return _summary(done, steps, {"tool": "observable preview", "framework": peer.version()})
