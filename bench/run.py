#!/usr/bin/env python3
"""The benchmark: build times, rebuilds, the live preview, scale, page weight, load in Chromium, Lighthouse, and Observable Framework as a peer.

``python bench/run.py [--runs N] [--smoke] [--no-peers] [--no-browser] [--no-preview] [--out results.md]``: writes bench/results.md and
bench/results.json (``--smoke``: bench/.work/smoke-results.md), and prints the Markdown.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import peer
import preview
import synth
import web
from harness import (
    BENCH,
    PYCACHE,
    WORK,
    NotMeasured,
    Sample,
    child_env,
    chromium,
    copy_project,
    machine,
    python,
    repeat,
    run,
    snapshot,
    tool_version,
    which,
)
from summary import Row, Target, evaluate, steps_text, write

PAGE = "figure6/index.html"
NO_STEPS = "steps not found in the server's log"  # a preview whose log showed none of its steps
CHANGED_CSV = "data/figure6_prm_size.csv"
CHANGED_ROW = ("prm", "Skywork-PRM-7B", "math500_accuracy")
# The preview's edits: one decimal, as the CSV has. The report asserts that this value (69.9) lies 0.3 to 2.5 points
# below Table 2's reading of the same run (71.8): an edit keeps it between 69.3 and 71.5, so that the rebuild succeeds.
PREVIEW_DELTAS = (0.3, -0.3, 0.7, -0.5, 1.1, 1.4, 0.4, -0.2, 0.9, 1.3)
LIBRARIES = "import pandas, altair, vl_convert, jinja2, frictionless, mkdocs.commands.build, mkdocs.config"
KB = 1024


@dataclass
class Config:
    """What to measure and where to write it."""

    runs: int
    smoke: bool
    peers: bool
    browser: bool
    no_browser_reason: str
    preview: bool
    lighthouse: bool
    lighthouse_runs: int
    reports: tuple[int, ...]
    rows: tuple[int, ...]
    out: Path
    timeout: float
    work: Path
    commit: str | None


@dataclass
class Bench:
    """The measurements of one benchmark run and their results."""

    config: Config
    results: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        """Where this run keeps its project copies."""
        return self.config.work

    @property
    def source(self) -> Path:
        """The snapshot of the project this run measures."""
        return self.work / "source"

    def copy(self, destination: Path, built: bool = False) -> Path:
        """A fresh copy of the snapshot of the project this run measures; ``built``: with the cold build's cache, as after a build."""
        project = copy_project(destination, self.source)
        if built and (self.work / "cold" / ".cache").is_dir():
            shutil.copytree(self.work / "cold" / ".cache", project / ".cache")
        return project

    # --- running ------------------------------------------------------------------------------------------------

    def section(self, key: str, measure: Callable[[], None]) -> None:
        """Run one measurement; a missing tool is recorded as not measured, any other failure as an error."""
        started = time.perf_counter()
        print(f"[bench] {key} ...", file=sys.stderr, flush=True)
        try:
            measure()
        except NotMeasured as reason:
            self.skipped[key] = str(reason)
            self.rows.append(Row(key, note=f"not measured: {reason}"))
        except Exception as error:
            self.errors[key] = f"{type(error).__name__}: {error}"
            self.rows.append(Row(key, note=f"failed: {str(error)[:300]}"))
        print(f"[bench] {key} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    def build(self, project: Path, what: str) -> Sample:
        """One ``python build_report.py build`` in ``project``."""
        return run(python("build_report.py", "build"), cwd=project, timeout=self.config.timeout).check(what)

    def stages(self, project: Path, what: str) -> dict[str, Any]:
        """One timed in-process build of ``project`` in a fresh child (bench/stages.py)."""
        sample = run(python(BENCH / "stages.py", project), cwd=project, timeout=self.config.timeout).check(what)
        result = json.loads(sample.stdout.strip().splitlines()[-1])
        result["rss_mb"] = sample.rss_mb
        return result

    # --- 1. cold build -------------------------------------------------------------------------------------------

    def cold(self) -> None:
        """Cold full builds of the shipped site in fresh copies, then the same split into stages."""
        runs = self.config.runs
        if not self.config.smoke:
            self.build(self.copy(self.work / "warm-up"), "warm-up build")  # fills the bytecode and OS file caches
        stat = repeat(runs, lambda i: self.build(self.copy(self.work / "cold"), "cold build"))
        rendered, changed = stat.samples[-1].built() or (None, None)
        self.results["cold_build"] = {**stat.to_dict(), "charts_rendered": rendered, "files_changed": changed}
        self.rows.append(Row("Cold full build (`build_report.py build`, empty cache, no site)", stat, f"{rendered} charts rendered, {changed} files written"))
        if self.config.smoke:
            return
        splits = [self.stages(self.copy(self.work / "stages"), "cold stage split") for _ in range(runs)]
        self.results["cold_stages"] = _split_summary(splits)
        self.results["charts"] = splits[-1]["charts"]

    # --- 2. rebuilds ---------------------------------------------------------------------------------------------

    def rebuilds(self) -> None:
        """Rebuilds of the cold build's project with no input change, and their split into stages."""
        project = self.work / "cold"
        if not (project / "site").is_dir():
            raise NotMeasured("the cold build did not leave a site")
        stat = repeat(self.config.runs, lambda i: self.build(project, "no-change rebuild"))
        counts = [s.built() or (None, None) for s in stat.samples]
        rendered, changed = max(c[0] or 0 for c in counts), max(c[1] or 0 for c in counts)
        skipped = all(s.skipped for s in stat.samples)
        self.results["rebuild_no_change"] = {**stat.to_dict(), "charts_rendered_max": rendered, "files_changed_max": changed, "up_to_date_skip": skipped}
        note = f"{rendered} charts rendered, {changed} files changed" + ("; the build's up-to-date check skipped every stage" if skipped else "")
        self.rows.append(Row("Rebuild, no input change (warm cache, site exists)", stat, note))
        if "--force" in run(python("build_report.py", "build", "--help"), cwd=project).stdout:
            forced = repeat(self.config.runs, lambda i: run(python("build_report.py", "build", "--force"), cwd=project).check("forced rebuild"))
            rendered, changed = max((s.built() or (0, 0))[0] for s in forced.samples), max((s.built() or (0, 0))[1] for s in forced.samples)
            self.results["rebuild_forced"] = {**forced.to_dict(), "charts_rendered_max": rendered, "files_changed_max": changed}
            note = f"{rendered} charts rendered, {changed} files changed"
            self.rows.append(Row("Rebuild, no input change, `--force` (every stage runs; renders from the cache)", forced, note))
        if not self.config.smoke:
            splits = [self.stages(project, "no-change stage split") for _ in range(self.config.runs)]
            self.results["rebuild_stages"] = _split_summary(splits)

    def csv_change(self) -> None:
        """Rebuilds after one value of one CSV changed, a different value each run: which charts are rendered again."""
        project = self.work / "cold"
        path = project / CHANGED_CSV
        original = path.read_text(encoding="utf-8")
        site = project / "site"
        rendered_sets: list[set[str]] = []
        cards: list[int] = []

        def once(i: int) -> Sample:
            before, card = _hashes(site, "*/figures/*.svg"), _hashes(site, "*/social.png")
            path.write_text(_edit_csv(original, 0.01 * (i + 1)), encoding="utf-8")
            sample = self.build(project, "rebuild after a CSV change")
            after, card_after = _hashes(site, "*/figures/*.svg"), _hashes(site, "*/social.png")
            changed = [name for name in after if after.get(name) != before.get(name)]
            rendered_sets.append({name.replace("/figures/", "/").removesuffix(".svg").removesuffix(".narrow") for name in changed})
            cards.append(sum(1 for name in card_after if card_after[name] != card.get(name)))
            return sample

        try:
            stat = repeat(self.config.runs, once)
        finally:
            path.write_text(original, encoding="utf-8")
        counts = [s.built() or (0, 0) for s in stat.samples]
        dataset = Path(CHANGED_CSV).stem
        charts = self.results.get("charts")
        expected = sorted(chart for chart, datasets in charts.items() if dataset in datasets) if charts else None
        changed_svgs = sorted(set().union(*rendered_sets))
        self.results["rebuild_csv_change"] = {
            **stat.to_dict(),
            "csv": CHANGED_CSV,
            "charts_rendered": [c[0] for c in counts],
            "files_changed": [c[1] for c in counts],
            "charts_whose_svg_changed": changed_svgs,
            "social_cards_changed": cards,
            "charts_reading_the_csv": expected,
        }
        note = f"{max(c[0] for c in counts)} charts rendered ({', '.join(changed_svgs)}), {max(c[1] for c in counts)} files changed"
        self.rows.append(Row(f"Rebuild after one value of `{CHANGED_CSV}` changed", stat, note))

    # --- 3. bare MkDocs ------------------------------------------------------------------------------------------

    def bare_mkdocs(self) -> None:
        """``mkdocs build --strict`` alone, on the pages the build generates, written into docs/ of a copy without the hooks."""
        project = self.copy(self.work / "bare", built=True)
        run(python(BENCH / "stages.py", project, "--mode", "export"), cwd=project, timeout=self.config.timeout).check("export of the generated pages")
        cmd = python("-m", "mkdocs", "build", "--strict", "-f", "mkdocs-bare.yml")
        env = child_env(NO_MKDOCS_2_WARNING="1")
        stat = repeat(self.config.runs, lambda i: run(cmd, cwd=project, env=env, timeout=self.config.timeout).check("bare mkdocs build"))
        self.results["bare_mkdocs"] = stat.to_dict()
        self.rows.append(Row("`mkdocs build --strict` alone on the generated pages (the floor)", stat))

    # --- imports, with and without cached bytecode ---------------------------------------------------------------

    def imports(self) -> None:
        """Importing the build's libraries with cached bytecode, and compiling them from source (no bytecode cache)."""
        cached = repeat(self.config.runs, lambda i: run(python("-c", LIBRARIES), cwd=self.work).check("imports"))
        empty = self.work / "no-pycache"

        def uncached(i: int) -> Sample:
            shutil.rmtree(empty, ignore_errors=True)
            env = child_env(PYTHONPYCACHEPREFIX=str(empty), PYTHONDONTWRITEBYTECODE="1")
            return run(python("-c", LIBRARIES), cwd=self.work, env=env).check("imports without bytecode")

        compiled = repeat(self.config.runs, uncached)
        site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
        shipped_pyc = any(site_packages.glob("pandas/__pycache__/*.pyc"))
        self.results["imports"] = {"cached_bytecode": cached.to_dict(), "no_bytecode": compiled.to_dict(), "venv_has_pyc": shipped_pyc}
        self.rows.append(Row("Import the build's libraries, bytecode cached", cached))
        self.rows.append(Row("Import the build's libraries, no bytecode cache", compiled, f"the venv holds .pyc files: {'yes' if shipped_pyc else 'no'}"))

    # --- 4. scale ------------------------------------------------------------------------------------------------

    def reports(self) -> None:
        """Cold builds of N generated reports of three charts each; the slope in seconds per report and its linearity."""
        times: dict[int, float] = {}
        for count in self.config.reports:

            def once(i: int, count: int = count) -> Sample:
                project = self.copy(self.work / f"reports-{count}")
                synth.add_reports(project, count)
                return self.build(project, f"cold build of {count} reports")

            stat = repeat(self.config.runs, once)
            rendered, _ = stat.samples[-1].built() or (None, None)
            times[count] = stat.median
            self.results.setdefault("synthetic_reports", {})[str(count)] = {**stat.to_dict(), "charts_rendered": rendered}
            self.rows.append(Row(f"Cold build, {count} synthetic reports x 3 charts", stat, f"{rendered} charts rendered"))
        self.results["synthetic_reports"]["fit"] = _linearity(times)

    def rows_scale(self) -> None:
        """A per-example log of 10^3 to 10^6 (or 10^7) rows read through one SQL view, one chart and three claims: cold build,
        peak RSS, page weight and the no-change rebuild; and the largest log described but read by no report."""
        for count in self.config.rows:
            project_dir = self.work / f"rows-{count}"
            csv_bytes = 0

            def once(i: int, count: int = count, project_dir: Path = project_dir) -> Sample:
                nonlocal csv_bytes
                project = self.copy(project_dir)
                csv_bytes = synth.add_rows(project, count)
                return run(python("build_report.py", "build"), cwd=project, timeout=self.config.timeout)

            stat = repeat(self.config.runs, once)
            last = stat.samples[-1]
            entry: dict[str, Any] = {**stat.to_dict(), "csv_bytes": csv_bytes, "exit_code": last.returncode, "timed_out": last.timed_out}
            if last.returncode == 0:
                entry["page_weight"] = web.static_weight(project_dir / "site", "/", "rows/index.html")
                rebuild = repeat(
                    self.config.runs, lambda i, project_dir=project_dir: run(python("build_report.py", "build"), cwd=project_dir, timeout=self.config.timeout)
                )
                entry["rebuild"] = rebuild.to_dict()
                note = f"built; page {_kb(entry['page_weight']['interactive']['gzip_bytes'])} gzip interactive; no-change rebuild {rebuild.median:.2f} s"
            else:
                message = (last.stderr.strip() or last.stdout.strip()).splitlines()
                entry["error"] = " ".join(message)[-600:] if message else ""
                entry["clean_error"] = bool(message) and "Traceback" not in last.stderr and message[0].startswith("error:")
                note = f"exit {last.returncode}{' (timed out)' if last.timed_out else ''}: {' '.join(message)[:160]}"
            self.results.setdefault("rows", {})[str(count)] = entry
            self.rows.append(Row(f"Cold build, a log of {count:,} rows through one SQL view, one chart, three claims", stat, note))
        described = max((c for c in self.config.rows if c <= 1_000_000), default=None)
        if described is None:
            return
        project_dir = self.work / f"described-{described}"

        def described_once(i: int) -> Sample:
            synth.add_rows(self.copy(project_dir), described, charted=False)
            return run(python("build_report.py", "build"), cwd=project_dir, timeout=self.config.timeout)

        stat = repeat(self.config.runs, described_once)
        page = project_dir / "site" / "data" / "index.html"
        size = page.stat().st_size if page.is_file() else None
        self.results["described"] = {**stat.to_dict(), "rows": described, "exit_code": stat.samples[-1].returncode, "data_page_bytes": size}
        self.rows.append(Row(f"Cold build, a log of {described:,} rows described but read by no report", stat, f"data page {_kb(size)}"))

    def weight(self) -> None:
        """What provenance weighs over large data: the longest source text on any page, the daily chart's page, claims.json."""
        rows = max(self.config.rows)
        project_dir = self.work / "weight"
        synth.add_weight(self.copy(project_dir), rows)
        built = run(python("build_report.py", "build"), cwd=project_dir, timeout=self.config.timeout)
        site = project_dir / "site"
        if built.returncode != 0 or not (site / "daily" / "index.html").is_file():
            raise NotMeasured(f"the build failed: {(built.stderr or built.stdout).strip()[-300:]}")
        longest = max((web.longest_source(page.read_text(encoding="utf-8")) for page in site.rglob("*.html")), key=len)
        entry = {
            "log_rows": rows,
            "longest_source_chars": len(longest),
            "longest_source": longest[:200],
            "daily_page": web.static_weight(site, "/", "daily/index.html"),
            "claims_json_bytes": (site / "claims.json").stat().st_size,
        }
        self.results["weight"] = entry
        note = (
            f"longest source text {entry['longest_source_chars']} characters; daily page "
            f"{_kb(entry['daily_page']['before']['gzip_bytes'])} gzip; claims.json {_kb(entry['claims_json_bytes'])}"
        )
        self.rows.append(Row(f"Provenance weight: a log of {rows:,} rows, 1,461 days of two cities, a share of 10,000 answers", None, note))

    # --- 5. page weight and Chromium ------------------------------------------------------------------------------

    def page(self) -> None:
        """Page weight of the report page, before and after its charts became interactive; load timings and CLS in Chromium."""
        site = self.work / "cold" / "site"
        if not (site / PAGE).is_file():
            raise NotMeasured("the cold build did not leave the report page")
        self.results["page_files"] = web.static_weight(site, site_prefix(self.source), PAGE)
        if not self.config.browser:
            raise NotMeasured(f"{self.config.no_browser_reason}: page weight from the files only, no timings or CLS")
        runs = 1 if self.config.smoke else self.config.runs
        self.results["page_browser"] = web.browse(chromium(), site, site_prefix(self.source), PAGE, runs, viewports=("desktop",) if self.config.smoke else None)
        desktop = self.results["page_browser"]["viewports"]["desktop"]
        note = f"charts visible {desktop['charts_visible_ms']} ms, interactive {desktop['interactive_ms']} ms, CLS {desktop['cls_max']}"
        self.rows.append(Row(f"Report page `{PAGE}` in Chromium (desktop)", None, note))

    def lighthouse(self) -> None:
        """Lighthouse scores of the report page, mobile and desktop."""
        if not self.config.lighthouse:
            raise NotMeasured(self.config.no_browser_reason if not self.config.browser else "--smoke or --no-lighthouse")
        if web.lighthouse_cli() is None:
            if not which("npm"):
                raise NotMeasured("npm is not installed, so Lighthouse could not be installed")
            peer.npm_install(f"lighthouse@{web.LIGHTHOUSE}")
        site = self.work / "cold" / "site"
        self.results["lighthouse"] = web.lighthouse(chromium(), site, site_prefix(self.source), PAGE, self.config.lighthouse_runs, self.work / "lighthouse")

    # --- 7. the peer ---------------------------------------------------------------------------------------------

    def peer(self) -> None:
        """Observable Framework: clean and warm builds of the equivalent page, and its weight in Chromium."""
        if not self.config.peers:
            raise NotMeasured("--smoke or --no-peers")
        built = peer.builds(self.config.runs, self.source)
        self.results["peer"] = {"framework": built["version"], "clean_build": built["clean"].to_dict(), "warm_build": built["warm"].to_dict()}
        self.rows.append(Row(f"Observable Framework {built['version']}: clean build (no dist, no cache)", built["clean"]))
        self.rows.append(Row(f"Observable Framework {built['version']}: warm build", built["warm"]))
        self.results["peer"]["page_files"] = {
            "interactive": web.weigh_files(built["dist"], "/", _all_files(built["dist"])).to_dict(),
            "method": "every file of dist/",
        }
        if self.config.browser and chromium():
            browsed = web.browse(chromium(), built["dist"], "/", "index.html", self.config.runs, ready=peer.PEER_READY, viewports=("desktop",))
            self.results["peer"]["page_browser"] = browsed

    # --- 8. the live preview -------------------------------------------------------------------------------------

    def _preview_ready(self) -> str | None:
        """Chromium's path, or a NotMeasured when the preview is not to be measured."""
        if not self.config.preview:
            raise NotMeasured("--no-preview")
        if not self.config.browser:
            raise NotMeasured(self.config.no_browser_reason)
        return chromium()

    def preview(self) -> None:
        """``build_report.py serve`` in a copy of the project (with the cold build's cache, as after a build): one value of a CSV
        written, a different value each run, until Chromium shows the new value in the report page's text and in a chart."""
        browser = self._preview_ready()
        project = self.copy(self.work / "preview", built=True)
        edits = _preview_edits((self.source / CHANGED_CSV).read_text(encoding="utf-8"))
        page_path = site_prefix(self.source) + PAGE.removesuffix("index.html")
        stat, entry = preview.ours(browser, project, page_path, CHANGED_CSV, edits, self.config.runs, self.config.timeout)
        self.results["preview"] = entry
        steps = entry["steps_s"]
        note = f"values {', '.join(entry['values'])}; " + steps_text(steps, NO_STEPS) + "; CPU and peak RSS of the server's processes"
        self.rows.append(Row(f"Preview: one CSV value changed → new value in the page (ours, `build_report.py serve`, `{PAGE}`)", stat, note))

    def peer_preview(self) -> None:
        """Observable Framework's ``observable preview`` of the peer page: the same edits of its copy of the CSV, timed the same way.
        Any failure of it is reported as not measured, not as a failure of the benchmark."""
        browser = self._preview_ready()
        if not self.config.peers:
            raise NotMeasured("--smoke or --no-peers")
        edits = _preview_edits((self.source / CHANGED_CSV).read_text(encoding="utf-8"))
        try:
            stat, entry = preview.framework(browser, self.source, Path(CHANGED_CSV).name, edits, self.config.runs, self.config.timeout)
        except NotMeasured:
            raise
        except Exception as error:
            raise NotMeasured(f"Observable Framework's preview failed: {type(error).__name__}: {str(error)[:400]}") from error
        self.results["peer_preview"] = entry
        note = f"values {', '.join(entry['values'])}; " + steps_text(entry["steps_s"], NO_STEPS) + "; CPU and peak RSS of its node process"
        self.rows.append(
            Row(f"Preview: one CSV value changed → new value in the page (Observable Framework {entry['framework']} `observable preview`)", stat, note)
        )


def site_prefix(source: Path) -> str:
    """The path the site is published under (site_url in mkdocs.yml), so it is served as it will be."""
    import yaml

    text = (source / "mkdocs.yml").read_text(encoding="utf-8")
    site_url = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("site_url:")), "") or "/"
    path = urlsplit(yaml.safe_load(site_url) if site_url != "/" else "/").path.strip("/")
    return f"/{path}/" if path else "/"


def _split_summary(splits: list[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds per stage and per library over several stage splits."""
    stages = {name: round(statistics.median(s["stages_s"][name] for s in splits), 3) for name in splits[0]["stages_s"]}
    libraries = {name: round(statistics.median(s["libraries_s"][name] for s in splits), 3) for name in splits[0]["libraries_s"]}
    return {
        "runs": len(splits),
        "stages_s": stages,
        "libraries_s": libraries,
        "total_s": round(statistics.median(s["total_s"] for s in splits), 3),
        "renders": splits[-1]["renders"],
        "units": splits[-1].get("units", {}),
        "engines": splits[-1].get("engines", 0),
        "peak_rss_mb": round(max(s["rss_mb"] for s in splits), 1),
    }


def _medians(values: list[dict[str, float]]) -> dict[str, float]:
    """The median of each key over several dicts (the keys of the first)."""
    return {key: round(statistics.median(v[key] for v in values if key in v), 4) for key in values[0]} if values else {}


def _hashes(folder: Path, pattern: str) -> dict[str, str]:
    """SHA-256 of each file matching ``pattern`` under ``folder``, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob(pattern)} if folder.is_dir() else {}


def _changed_row(rows: list[dict[str, str]]) -> dict[str, str]:
    """The row whose value the benchmark changes: the one named by CHANGED_ROW, else the last row."""
    key, name, _ = CHANGED_ROW
    if not rows:
        raise RuntimeError(f"{CHANGED_CSV} has no rows to change")
    return next((r for r in rows if r.get(key) == name), rows[-1])


def _edit_csv(text: str, delta: float, digits: int = 2) -> str:
    """The CSV with one value (see _changed_row) moved by ``delta``, written with ``digits`` decimals."""
    column = CHANGED_ROW[2]
    rows = list(csv.DictReader(io.StringIO(text)))
    row = _changed_row(rows)
    row[column] = f"{float(row[column]) + delta:.{digits}f}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _preview_edits(text: str) -> list[tuple[str, str]]:
    """The preview's edits of the CSV, each (the new value as the page prints it, the whole CSV): PREVIEW_DELTAS away from the
    original, with one decimal; whole numbers are left out, as a page may print them without a decimal."""
    column = CHANGED_ROW[2]
    edits = []
    for delta in PREVIEW_DELTAS:
        edited = _edit_csv(text, delta, digits=1)
        value = _changed_row(list(csv.DictReader(io.StringIO(edited))))[column]
        if not value.endswith(".0"):
            edits.append((value, edited))
    return edits


def _linearity(times: dict[int, float]) -> dict[str, Any]:
    """Seconds per report between successive sizes; linear when the last slope is within 25% of the first."""
    sizes = sorted(times)
    slopes = [(times[b] - times[a]) / (b - a) for a, b in itertools.pairwise(sizes)]
    fit: dict[str, Any] = {"sizes": sizes, "median_s": [round(times[s], 3) for s in sizes], "slopes_s_per_report": [round(s, 3) for s in slopes]}
    if slopes:
        fit["slope_s_per_report"] = round(slopes[-1], 3)
    if len(slopes) >= 2 and slopes[0] > 0:
        fit["slope_ratio_last_to_first"] = round(slopes[-1] / slopes[0], 3)
        fit["linear"] = 0.75 <= slopes[-1] / slopes[0] <= 1.25
    return fit


def _all_files(root: Path) -> list[str]:
    return [f"http://{web.HOST}/{p.relative_to(root).as_posix()}" for p in sorted(root.rglob("*")) if p.is_file()]


def _kb(size: float | None) -> str:
    return "n/a" if size is None else f"{size / KB:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its results."""
    config = parse(argv)
    PYCACHE.mkdir(parents=True, exist_ok=True)
    config.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bench = Bench(config)
    bench.results["machine"] = machine()
    bench.results["tools"] = tools()
    bench.results["config"] = {k: v for k, v in vars(config).items() if not isinstance(v, Path)}
    bench.results["config"]["work"] = "bench/.work/" + config.work.name
    bench.results["source"] = snapshot(config.work / "source", config.commit)
    for key, measure in (
        ("cold build", bench.cold),
        ("no-change rebuild", bench.rebuilds),
        ("bare mkdocs", bench.bare_mkdocs),
        ("imports", bench.imports),
        ("page", bench.page),
        ("lighthouse", bench.lighthouse),
        ("CSV change", bench.csv_change),
        ("observable framework", bench.peer),
        ("preview", bench.preview),
        ("observable framework preview", bench.peer_preview),
        ("synthetic reports", bench.reports),
        ("rows", bench.rows_scale),
        ("provenance weight", bench.weight),
    ):
        if config.smoke and key == "imports":
            continue
        bench.section(key, measure)
    bench.results["duration_s"] = round(time.perf_counter() - started, 1)
    bench.results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    evaluate(bench)
    print(write(bench))
    if config.smoke:
        shutil.rmtree(config.work, ignore_errors=True)
    return 1 if bench.errors else 0


def tools() -> dict[str, str]:
    """Versions of the outside tools, or why one is missing."""
    found = {
        "node": tool_version(["node", "--version"]) or "not measured: Node.js is not installed",
        "npm": tool_version(["npm", "--version"]) or "not measured: npm is not installed",
        "chromium": tool_version([chromium() or "chromium", "--version"]) or "not measured: Chromium is not installed",
    }
    packages = {"mkdocs": "mkdocs", "vl_convert": "vl-convert-python", "altair": "altair", "pandas": "pandas", "frictionless": "frictionless"}
    for name, package in packages.items():
        try:
            found[name] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _sizes(text: str) -> tuple[int, ...]:
    """A comma-separated list of positive integers."""
    sizes = tuple(int(part) for part in text.split(",") if part.strip())
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("expected positive integers separated by commas, e.g. 1,10,100")
    return sizes


def parse(argv: list[str] | None) -> Config:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timing; the median is reported (default 5)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 run, no peers, no Lighthouse; writes bench/.work/smoke-results.md")
    parser.add_argument("--no-peers", action="store_true", help="skip Observable Framework")
    parser.add_argument("--no-browser", action="store_true", help="skip Chromium and Lighthouse (page weight from the files only)")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    parser.add_argument("--no-preview", action="store_true", help="skip the live preview (ours and Observable Framework's)")
    parser.add_argument("--lighthouse-runs", type=int, default=3, help="Lighthouse runs per preset; the median score is reported (default 3)")
    parser.add_argument("--out", type=Path, default=None, help="the Markdown results (default bench/results.md); the JSON goes beside it")
    parser.add_argument("--reports", type=_sizes, default=None, help="numbers of synthetic reports (default 1,10,100; --smoke: 2)")
    parser.add_argument("--rows", type=_sizes, default=None, help="row counts of the large dataset (default 1000,100000,1000000; --smoke: 1000)")
    parser.add_argument("--commit", default=None, help="measure this commit (git archive) instead of the working tree, e.g. HEAD")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before one build is stopped (default 1800)")
    args = parser.parse_args(argv)
    smoke = args.smoke
    WORK.mkdir(parents=True, exist_ok=True)
    browser = not args.no_browser and chromium() is not None
    return Config(
        runs=1 if smoke else max(1, args.runs),
        smoke=smoke,
        peers=not smoke and not args.no_peers,
        browser=browser,
        no_browser_reason="--no-browser" if args.no_browser else ("" if browser else "no Chromium found (install chromium or set CHROMIUM_PATH)"),
        preview=not args.no_preview,
        lighthouse=browser and not smoke and not args.no_lighthouse,
        lighthouse_runs=max(1, args.lighthouse_runs),
        reports=args.reports or ((2,) if smoke else (1, 10, 100)),
        rows=args.rows or ((1_000,) if smoke else (1_000, 100_000, 1_000_000)),
        out=(args.out or (WORK / "smoke-results.md" if smoke else BENCH / "results.md")).resolve(),
        timeout=args.timeout,
        work=Path(tempfile.mkdtemp(prefix="smoke-", dir=WORK)) if smoke else WORK / "full",
        commit=args.commit,
    )


if __name__ == "__main__":
    sys.exit(main())
