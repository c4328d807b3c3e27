"""Shared pieces of the benchmark: timed child processes with their peak RSS, work copies, statistics, the machine."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
PEERS = BENCH / ".peers"
PYCACHE = WORK / "pycache"
PROJECT_PARTS = ("data", "templates", "docs", "claimsite", "pyproject.toml", "mkdocs.yml", "build_report.py")
BUILT = re.compile(r"([\d,]+) charts? rendered, ([\d,]+) files? changed")


class NotMeasured(Exception):
    """A measurement that could not be taken on this machine (a missing tool, say): reported, not fatal."""


@dataclass
class Sample:
    """One run of a child process: wall time, peak resident memory, exit code and output."""

    seconds: float
    cpu_s: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    def check(self, what: str) -> Sample:
        """This sample, or an error quoting the end of the child's output when it failed."""
        if self.returncode != 0 or self.timed_out:
            tail = (self.stderr.strip() or self.stdout.strip())[-1500:]
            why = "timed out" if self.timed_out else f"exit {self.returncode}"
            raise RuntimeError(f"{what} failed ({why}): {tail}")
        return self

    def built(self) -> tuple[int, int] | None:
        """(charts rendered, files changed) from the build's closing line, if it printed one; (0, 0) when it found nothing to do."""
        match = BUILT.search(self.stdout)
        if match:
            return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))
        return (0, 0) if self.skipped else None

    @property
    def skipped(self) -> bool:
        """Whether the build said the site was up to date and did nothing."""
        return "is up to date" in self.stdout


@dataclass
class Stat:
    """Repeated samples of one measurement, summarised by their median."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu_s(self) -> float:
        return statistics.median(s.cpu_s for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_mb for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        """The summary for results.json."""
        seconds = [round(s.seconds, 3) for s in self.samples]
        return {
            "median_s": round(self.median, 3),
            "min_s": min(seconds),
            "max_s": max(seconds),
            "runs": len(seconds),
            "samples_s": seconds,
            "median_cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.rss_mb, 1),
        }


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every timed child: bytecode cached under bench/.work (as after a normal install), output unbuffered."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["PYTHONUNBUFFERED"] = "1"
    env["OBSERVABLE_TELEMETRY_DISABLE"] = "true"
    env.update(extra)
    return env


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> Sample:
    """Run a command to its end; its CPU time and peak RSS (of it and its waited-for children) come from wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(cmd), cwd=cwd, env=env or child_env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Sample(
            seconds=seconds,
            cpu_s=usage.ru_utime + usage.ru_stime,
            rss_mb=usage.ru_maxrss / 1024,
            returncode=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=expired.is_set(),
        )


def repeat(runs: int, once: Callable[[int], Sample]) -> Stat:
    """``runs`` samples of ``once(i)``, each checked to have succeeded."""
    return Stat([once(i) for i in range(runs)])


def python(*args: str | Path) -> list[str]:
    """A command running this interpreter (the project's venv)."""
    return [sys.executable, *(str(a) for a in args)]


def copy_project(destination: Path, source: Path = ROOT) -> Path:
    """A fresh copy of the project's inputs from ``source`` at ``destination``: no cache, no site."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for part in PROJECT_PARTS:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.is_file():
            shutil.copy2(origin, destination / part)
    return destination


def snapshot(destination: Path, commit: str | None) -> dict[str, Any]:
    """The project's inputs copied once to ``destination``: from the working tree, or from ``commit`` with git archive.

    Every measurement copies this snapshot, so all of them build the same code even while the working tree changes.
    """
    shutil.rmtree(destination, ignore_errors=True)
    if commit is None:
        copy_project(destination)
    else:
        destination.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit, "--", *PROJECT_PARTS], cwd=ROOT, capture_output=True, check=False)
        if archive.returncode != 0:
            raise SystemExit(f"git archive {commit} failed: {archive.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(destination, filter="data")
    head = subprocess.run(["git", "rev-parse", "--short", commit or "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    status = subprocess.run(["git", "status", "--porcelain", "--", *PROJECT_PARTS], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    dirty = bool(status.strip()) and commit is None
    return {"from": f"commit {commit}" if commit else "working tree", "commit": head or "unknown", "uncommitted_changes": dirty}


def gzip_size(content: bytes) -> int:
    """Bytes on the wire when a server gzips ``content`` (level 6, as common servers do)."""
    import gzip

    return len(gzip.compress(content, compresslevel=6, mtime=0))


def which(name: str) -> str | None:
    """An executable on PATH, or None."""
    return shutil.which(name)


def chromium() -> str | None:
    """Chromium's executable: CHROMIUM_PATH, else chromium on PATH, else the Debian location; None if none exists."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def machine() -> dict[str, Any]:
    """The machine, without any of its paths: CPU model, cores, memory, Python, load."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in load],
    }


def tool_version(cmd: Sequence[str]) -> str | None:
    """The first line a tool prints for its version, or None when it does not run."""
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if done.returncode == 0 and text else None
