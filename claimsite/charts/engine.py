"""The chart engine: vl-convert draws Vega-Lite as Vega, SVG and PNG, in worker processes when there is enough to draw.

vl-convert runs one JavaScript engine per process and draws one chart at a time in it, so a build that has
many charts to draw gives each core its own engine. Starting one costs about half a second; a build that
finds few charts to draw, or runs on one core, draws them in its own process. A worker imports this module
only, not the build's libraries.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from claimsite.core.errors import ReportError
from claimsite.core.limits import limits
from claimsite.core.offline import refuse_network

PNG_SCALE = 2
T = TypeVar("T")
# Below this many charts to draw, starting engines in other processes costs more than it saves.
WORKERS_FROM = 4


def worker_limit() -> int:
    """How many chart engines a build may start: one per core it may run on, or REPORT_WORKERS if set (1: draw in the build's process)."""
    setting = os.environ.get("REPORT_WORKERS")
    if setting is not None:
        if not setting.isdigit() or int(setting) < 1:
            raise ReportError.at("REPORT_WORKERS", "must be a whole number of processes", expected="1, 2, …", found=setting, fix="set it to 1 or more")
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def stable_ids(svg: str, chart_id: str) -> str:
    """The SVG with the ids the renderer numbers across a whole run (gradient_7) numbered within the chart: same chart, same bytes."""
    found = list(dict.fromkeys(re.findall(r'id="((?:gradient|clip|pattern)_?\d+)"', svg)))
    for number, old in enumerate(found):
        svg = re.sub(rf'(?<=["#]){re.escape(old)}(?=[")])', f"{chart_id}-{old.rstrip('0123456789').rstrip('_')}-{number}", svg)
    return svg


def draw(spec_text: str, chart_id: str, png: bool = True) -> tuple[bytes, bytes | None, dict[str, Any]]:
    """One chart's SVG, PNG (if ``png``) and Vega spec from its Vega-Lite JSON: compiled once, the PNG rasterised from the SVG."""
    import vl_convert

    vega = vl_convert.vegalite_to_vega(json.loads(spec_text))
    svg = stable_ids(vl_convert.vega_to_svg(vega), chart_id)
    return svg.encode(), vl_convert.svg_to_png(svg, scale=PNG_SCALE) if png else None, vega


def rasterise(svg: str) -> bytes:
    """A PNG of an SVG at its own size (a link-preview card)."""
    import vl_convert

    return vl_convert.svg_to_png(svg)


_WARM_UP = '{"mark": "point", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}}'


def _spawnable() -> bool:
    """Whether a worker process can start as this one did: not when the main program has no file to run again (stdin)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


def _warm() -> None:
    """Start a worker's engine at once (JavaScript runtime, Vega-Lite compiler, SVG and PNG); keep the worker offline, and
    bound to the build: it ends when the build's process ends, however that ends (killed, interrupted)."""
    _die_with_parent()
    refuse_network()
    draw(_WARM_UP, "warm-up")


def _die_with_parent() -> None:
    """Ask the system to end this process when its parent ends (Linux; elsewhere the pool's own shutdown does)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent ended before the request
        os._exit(1)


class Stalled(Exception):
    """A drawing went past its time limit; its worker was stopped."""


class Crashed(Exception):
    """A drawing ended the process that drew it (out of memory, or the engine aborted)."""


def isolated(function: Callable[..., T], jobs: list[tuple[Any, ...]], seconds: float) -> list[T]:
    """``function(*job)`` for each job, in a process of their own, each stopped after ``seconds``: a drawing that runs
    without end, or that brings its process down, costs that process, never the build's."""
    if not jobs:
        return []
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
    try:
        return [pool.submit(function, *job).result(timeout=seconds) for job in jobs]
    except FuturesTimeout:
        _kill(pool)
        raise Stalled(f"it took longer than {seconds:g} s") from None
    except BrokenProcessPool:
        raise Crashed("it stopped the process drawing it (out of memory, or the chart engine gave up)") from None
    finally:
        _kill(pool)
        pool.shutdown(wait=False, cancel_futures=True)


def _kill(pool: ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(OSError, AttributeError):
            process.kill()


@dataclass
class Engine:
    """Where charts are drawn: in this process, or in worker processes started for the first batch large enough to pay for them."""

    limit: int = field(default_factory=worker_limit)
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)
    workers: int = 0

    @classmethod
    def started(cls, workers: int | None = None) -> Engine:
        """An engine whose workers (``workers``, else one per core) start now, warming up while this process imports and reads the data."""
        engine = cls()
        engine._start(workers if workers is not None else engine.limit)
        return engine

    def _start(self, workers: int) -> None:
        if workers < 2 or self._pool is not None or not _spawnable():
            return
        # Spawned, not forked: the build's process holds threads (DuckDB's) that a fork would copy mid-flight.
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
        self.workers = workers
        for _ in range(workers):
            self._pool.submit(int)  # each submission starts a worker; its initializer warms its engine

    def map(self, function: Callable[..., T], jobs: Iterable[tuple[Any, ...]]) -> Iterator[T]:
        """``function`` over each job's arguments, results in order: in the workers if there are enough jobs, else here.

        A job's error is raised when its result is reached, as the function raised it. If the workers stop (a
        worker killed, say), the jobs they had not finished are done here.
        """
        jobs = list(jobs)
        if self._pool is None and len(jobs) >= WORKERS_FROM:
            self._start(min(self.limit, len(jobs)))
        if self._pool is None or len(jobs) < 2:
            return (function(*job) for job in jobs)
        try:
            futures = [self._pool.submit(function, *job) for job in jobs]
        except BrokenProcessPool:  # the workers stopped since the last batch
            self._stopped()
            return (function(*job) for job in jobs)
        return (self._result(future, function, job) for future, job in zip(futures, jobs, strict=True))

    def _result(self, future: Future[T], function: Callable[..., T], job: tuple[Any, ...]) -> T:
        seconds = limits().chart_seconds
        try:
            return future.result(timeout=seconds)
        except FuturesTimeout:
            if self._pool is not None:
                _kill(self._pool)
            self._stopped()
            raise Stalled(f"it took longer than {seconds:g} s") from None
        except BrokenProcessPool:  # a worker ended (killed, out of memory): the job is drawn again, in a process of its own
            self._stopped()
            return isolated(function, [job], seconds)[0]

    def _stopped(self) -> None:
        """The workers are gone: draw here from now on."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self.workers = 0
        self.limit = 1

    def close(self, stop: bool = False) -> None:
        """Stop the workers: at once with ``stop`` (the build was interrupted or failed), else once their jobs are done."""
        if self._pool is not None:
            if stop:
                _kill(self._pool)
            self._pool.shutdown(wait=not stop, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(stop=kind is not None)


def engine_for(charts: Path) -> Engine:
    """The engine for a build whose chart renders are kept in ``charts``: started at once if none is drawn yet, else on demand."""
    cold = not charts.is_dir() or not any(charts.glob("*.svg"))
    return Engine.started() if cold else Engine()
