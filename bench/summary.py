"""The benchmark's verdicts and its report: targets met or not (with the measured gap and its cause), Markdown and JSON."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import ROOT, Stat
from preview import OUR_STEPS

if TYPE_CHECKING:
    from run import Bench

KB = 1024
PAGE_BEFORE_KB, PAGE_INTERACTIVE_KB = 90, 100
COLD_RATIO, REBUILD_RATIO, REPORTS_S, RSS_MB = 0.4, 0.2, 20.0, 1024
PREVIEW_S = 0.5
FIRST_STAGES = ("imports", "data", "specs", "claims", "chart specs", "chart drawing", "pages")


@dataclass
class Row:
    """A line of the timings table."""

    name: str
    stat: Stat | None = None
    note: str = ""


@dataclass
class Target:
    """A target, what was measured against it, whether it is met, and if not the gap and its cause."""

    name: str
    goal: str
    measured: str
    met: bool | None
    gap: str = ""


def _kb(size: float | None) -> str:
    return "n/a" if size is None else f"{size / KB:.1f} KB"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def steps_text(steps: dict[str, float | None], missing: str) -> str:
    """The seconds of each step of a preview edit that its log showed, or ``missing``."""
    return ", ".join(f"{name} {_s(seconds)}" for name, seconds in steps.items() if seconds is not None) or missing


def _top(mapping: dict[str, float], count: int = 3) -> str:
    return ", ".join(f"{name} {value:.2f} s" for name, value in sorted(mapping.items(), key=lambda kv: -kv[1])[:count])


def _missing(bench: Bench, *keys: str) -> str:
    for key in keys:
        if key in bench.skipped:
            return f"not measured: {bench.skipped[key]}"
        if key in bench.errors:
            return f"not measured: {key} failed ({bench.errors[key][:200]})"
    return "not measured"


def _cold_cause(r: dict[str, Any]) -> str:
    split = r.get("cold_stages")
    if not split:
        return ""
    stages = split["stages_s"]
    charts = split.get("units", {}).get("chart drawing", 0)
    engines = split.get("engines", 0)
    where = f"on {engines} chart engines started with the build" if engines else "in the build's own process"
    return f"largest stages of the cold build: {_top(stages)}; chart drawing {stages['chart drawing']:.2f} s for {charts} charts, {where}"


def _rebuild_cause(r: dict[str, Any]) -> str:
    split = r.get("rebuild_stages")
    if not split:
        return ""
    stages = split["stages_s"]
    before = {name: stages[name] for name in FIRST_STAGES}
    if r["rebuild_no_change"].get("up_to_date_skip"):
        return f"the up-to-date check alone takes {r['rebuild_no_change']['median_s']:.2f} s"
    return (
        f"before MkDocs runs, the rebuild spends {sum(before.values()):.2f} s that bare mkdocs does not ({_top(before, 4)}); "
        f"its MkDocs stage takes {stages['mkdocs']:.2f} s against {r['bare_mkdocs']['median_s']:.2f} s for a whole bare mkdocs process"
    )


def _ratio_target(bench: Bench, name: str, goal: str, ours: str, theirs: str, limit: float, cause: str, keys: tuple[str, ...]) -> None:
    r = bench.results
    if ours not in r or theirs not in r:
        bench.targets.append(Target(name, goal, _missing(bench, *keys), None))
        return
    a, b = r[ours]["median_s"], r[theirs]["median_s"]
    ratio = a / b
    cpu = r[ours].get("median_cpu_s", 0) / max(r[theirs].get("median_cpu_s", 1e-9), 1e-9)
    measured = f"{ratio:.2f}x ({_s(a)} / {_s(b)}; CPU time {cpu:.2f}x)"
    met = ratio <= limit
    gap = "" if met else f"{ratio / limit:.1f}x over: {a - b * limit:.2f} s too slow. {cause}"
    bench.targets.append(Target(name, goal, measured, met, gap))


def evaluate(bench: Bench) -> None:
    """Fill ``bench.targets`` from the results."""
    r = bench.results
    if "peer" in r:
        r["peer_clean"] = r["peer"]["clean_build"]
        r["peer_warm"] = r["peer"]["warm_build"]
    _ratio_target(
        bench,
        "Cold full build vs Observable Framework clean build",
        f"<= {COLD_RATIO}x",
        "cold_build",
        "peer_clean",
        COLD_RATIO,
        _cold_cause(r),
        ("observable framework", "cold build"),
    )
    _rebuild_target(bench)
    _csv_target(bench)
    _preview_target(bench)
    _reports_targets(bench)
    _rows_target(bench)
    _page_targets(bench)
    _weight_targets(bench)
    _lighthouse_target(bench)
    r.pop("peer_clean", None)
    r.pop("peer_warm", None)


def _weight_targets(bench: Bench) -> None:
    """Provenance that stays small over large data: source texts, the daily chart's page and claims.json."""
    entry = bench.results.get("weight")
    goals = (
        ("No source text over 1 KB", "<= 1,000 characters", "longest_source_chars", 1000, lambda v: f"{v:,} characters"),
        ("The page of a chart of 1,461 days", "<= 250 KB gzip", None, 250 * KB, _kb),
        ("claims.json", "<= 200 KB", "claims_json_bytes", 200 * KB, _kb),
    )
    for name, goal, key, limit, shown in goals:
        if not entry:
            bench.targets.append(Target(name, goal, _missing(bench, "provenance weight"), None))
            continue
        value = entry["daily_page"]["before"]["gzip_bytes"] if key is None else entry[key]
        met = value <= limit
        example = f": {entry['longest_source'][:120]}…" if key == "longest_source_chars" else ""
        gap = "" if met else f"{shown(value)}, over by {shown(value - limit)}{example}"
        bench.targets.append(Target(f"{name} (log of {entry['log_rows']:,} rows)", goal, shown(value), met, gap))


def _rebuild_target(bench: Bench) -> None:
    r = bench.results
    before = len(bench.targets)
    _ratio_target(
        bench,
        "No-change rebuild vs bare `mkdocs build`",
        f"<= {REBUILD_RATIO}x",
        "rebuild_no_change",
        "bare_mkdocs",
        REBUILD_RATIO,
        _rebuild_cause(r),
        ("no-change rebuild", "bare mkdocs"),
    )
    if "rebuild_no_change" in r:
        rendered, changed = r["rebuild_no_change"]["charts_rendered_max"], r["rebuild_no_change"]["files_changed_max"]
        met = rendered == 0 and changed == 0
        gap = "" if met else f"{rendered} charts rendered and {changed} files rewritten with no input change"
        bench.targets.append(Target("No-change rebuild renders and rewrites nothing", "0 charts, 0 files", f"{rendered} charts, {changed} files", met, gap))
    elif len(bench.targets) == before:
        bench.targets.append(Target("No-change rebuild renders and rewrites nothing", "0 charts, 0 files", _missing(bench, "no-change rebuild"), None))


def _csv_target(bench: Bench) -> None:
    entry = bench.results.get("rebuild_csv_change")
    name, goal = "One CSV change re-renders only the charts that read it", "rendered = charts reading the CSV"
    if not entry:
        bench.targets.append(Target(name, goal, _missing(bench, "CSV change"), None))
        return
    expected, changed = entry["charts_reading_the_csv"], entry["charts_whose_svg_changed"]
    rendered = max(entry["charts_rendered"])
    cards = max(entry.get("social_cards_changed", [0]))
    reading = ", ".join(expected) if expected is not None else "unknown (--smoke)"
    measured = f"{rendered} rendered per run (social cards changed: {cards}), SVG changed: {', '.join(changed) or 'none'}; reading the CSV: {reading}"
    if expected is None:
        bench.targets.append(Target(name, goal, measured, None, "the stage split (skipped by --smoke) lists which charts read the CSV"))
        return
    met = rendered <= len(expected) + cards and set(changed) == set(expected)
    gap = "" if met else f"{rendered} renders (SVG changed: {', '.join(changed)}) for {len(expected)} charts that read the CSV and {cards} social cards"
    bench.targets.append(Target(name, goal, measured, met, gap))


def _preview_cause(entry: dict[str, Any]) -> str:
    """Where the time of a preview edit went, from the steps in the server's log."""
    steps = entry.get("steps_s") or {}
    watch, before, build, page = (steps.get(name) for name in OUR_STEPS)
    if build is None or watch is None or before is None or page is None:
        return "the steps were not found in the server's log"
    builds = max(entry.get("builds_per_edit") or [1])
    twice = f"; up to {builds} rebuilds per edit (the watcher saw the write in two parts)" if builds > 1 else ""
    return (
        f"rebuild {build:.2f} s of {entry['median_s']:.2f} s (medians); the rest is the file watcher's delay until it saw the write "
        f"({watch:.2f} s; MkDocs' watcher polls the files), {before:.2f} s it waits before building, and the page's reload and load "
        f"({page:.2f} s from 'Reloading browsers' to the value shown){twice}"
    )


def _preview_target(bench: Bench) -> None:
    r = bench.results
    name, goal = "Live preview: one CSV value changed → new value and chart in the page, in Chromium", f"<= {PREVIEW_S} s"
    ours = r.get("preview")
    if not ours:
        bench.targets.append(Target(name, goal, _missing(bench, "preview"), None))
        return
    theirs = r.get("peer_preview")
    peer = (
        f"Observable Framework preview {_s(theirs['median_s'])}"
        if theirs
        else f"Observable Framework preview {_missing(bench, 'observable framework preview')}"
    )
    measured = f"{_s(ours['median_s'])} (median of {ours['runs']}, {_s(ours['min_s'])} to {_s(ours['max_s'])}); {peer}"
    met = ours["median_s"] <= PREVIEW_S
    gap = "" if met else f"{ours['median_s'] - PREVIEW_S:.2f} s over: {_preview_cause(ours)}"
    bench.targets.append(Target(name, goal, measured, met, gap))


def _reports_targets(bench: Bench) -> None:
    runs = bench.results.get("synthetic_reports")
    name = "100 reports x 3 charts, cold"
    if not runs or "100" not in runs:
        why = _missing(bench, "synthetic reports") if not runs else "not measured: 100 reports not among the sizes built"
        bench.targets.append(Target(name, f"<= {REPORTS_S:.0f} s, linear", why, None))
        return
    seconds = runs["100"]["median_s"]
    fit = runs.get("fit", {})
    linear = fit.get("linear")
    per_chart = ""
    cold = bench.results.get("cold_stages") or {}
    units, spent = cold.get("units", {}), cold.get("stages_s", {})
    each = {stage: spent[stage] / units[stage] for stage in ("chart drawing", "chart specs", "social cards") if units.get(stage) and stage in spent}
    counts = {"chart drawing": 300, "chart specs": 100, "social cards": 100}
    parts = [f"{stage} {counts[stage]} x {each_s:.3f} s = {counts[stage] * each_s:.0f} s" for stage, each_s in each.items()]
    if parts:
        per_chart = "; estimated from the cold split (seconds per chart or report, engine start included): " + ", ".join(parts)
    met = seconds <= REPORTS_S and bool(linear)
    measured = f"{_s(seconds)}, {fit.get('slope_s_per_report', 0):.2f} s per report (slopes {fit.get('slopes_s_per_report')}, linear: {linear})"
    gap = "" if met else (f"{seconds - REPORTS_S:.1f} s over" if seconds > REPORTS_S else "") + ("" if linear else "; not linear") + per_chart
    bench.targets.append(Target(name, f"<= {REPORTS_S:.0f} s, linear", measured, met, gap.strip("; ")))


ROWS_GOALS = {1_000_000: (10.0, 500), 10_000_000: (60.0, 1024)}
DESCRIBED_S, DESCRIBED_KB = 15.0, 200


def _rows_target(bench: Bench) -> None:
    rows = bench.results.get("rows") or {}
    small = rows.get("1000", {})
    small_weight = (small.get("page_weight") or {}).get("interactive", {}).get("gzip_bytes")
    small_rebuild = (small.get("rebuild") or {}).get("median_s")
    for count, (seconds, rss) in ROWS_GOALS.items():
        name = f"Log of 10^{len(str(count)) - 1} rows, one SQL view, chart and three claims"
        goal = f"cold <= {seconds:.0f} s, RSS <= {rss} MB, page <= the 10^3-row page, no-change rebuild as fast as the small one"
        big = rows.get(str(count))
        if big is None:
            bench.targets.append(Target(name, goal, _missing(bench, "rows") if not rows else f"not measured: {count:,} rows not among the sizes built", None))
            continue
        if big["exit_code"] != 0:
            measured = f"exit {big['exit_code']} after {_s(big['median_s'])}, peak RSS {big['peak_rss_mb']:.0f} MB, clean error: {big.get('clean_error')}"
            bench.targets.append(Target(name, goal, measured, False, f"does not build: {big.get('error', '')[:400]}"))
            continue
        weight = big["page_weight"]["interactive"]["gzip_bytes"]
        rebuild = (big.get("rebuild") or {}).get("median_s")
        checks = {
            "time": big["median_s"] <= seconds,
            "RSS": big["peak_rss_mb"] <= rss,
            "page weight": small_weight is None or weight <= small_weight * 1.01,
            "rebuild": rebuild is None or small_rebuild is None or rebuild <= max(small_rebuild * 1.5, small_rebuild + 0.1),
        }
        measured = (
            f"built in {_s(big['median_s'])}, peak RSS {big['peak_rss_mb']:.0f} MB, page {_kb(weight)} vs {_kb(small_weight)} at 10^3 rows, "
            f"no-change rebuild {_s(rebuild) if rebuild is not None else 'n/a'} vs {_s(small_rebuild) if small_rebuild is not None else 'n/a'}"
        )
        missed = [what for what, ok in checks.items() if not ok]
        bench.targets.append(Target(name, goal, measured, not missed, "over on: " + ", ".join(missed) if missed else ""))
    described = bench.results.get("described")
    name, goal = "Log of 10^6 rows described but read by no report", f"cold <= {DESCRIBED_S:.0f} s, data page <= {DESCRIBED_KB} KB"
    if not described:
        bench.targets.append(Target(name, goal, _missing(bench, "rows"), None))
        return
    size = described.get("data_page_bytes")
    met = described["exit_code"] == 0 and described["median_s"] <= DESCRIBED_S and size is not None and size <= DESCRIBED_KB * KB
    measured = f"{described['rows']:,} rows: built in {_s(described['median_s'])}, data page {_kb(size)}"
    bench.targets.append(Target(name, goal, measured, met, "" if met else "time or data page over the target"))


def _page_targets(bench: Bench) -> None:
    r = bench.results
    browsed = r.get("page_browser")
    source = browsed or r.get("page_files")
    if not source:
        bench.targets.append(Target("Report page weight", f"<= {PAGE_BEFORE_KB} KB / {PAGE_INTERACTIVE_KB} KB gzip", _missing(bench, "page"), None))
        return
    how = "Chromium" if browsed else "files"
    heaviest = sorted((browsed or {}).get("responses", []), key=lambda x: -x["gzip"])[:4]
    heavy = "; heaviest: " + ", ".join(f"{x['path']} {_kb(x['gzip'])}" for x in heaviest) if heaviest else ""
    for label, key, limit in (("before interaction", "before", PAGE_BEFORE_KB), ("with interactive charts", "interactive", PAGE_INTERACTIVE_KB)):
        size = source[key]["gzip_bytes"]
        search = sum(x["gzip"] for x in (browsed or {}).get("responses", []) if "/search" in x["path"]) if key == "interactive" else 0
        weight = size - search
        met = weight <= limit * KB
        by_type = ", ".join(f"{k} {_kb(v)}" for k, v in sorted(source[key]["gzip_by_type"].items(), key=lambda kv: -kv[1]))
        gap = "" if met else f"{_kb(weight - limit * KB)} over; gzip by type: {by_type}{heavy}"
        apart = f"; the site search's index and worker, which the theme loads after the page for the search box, add {_kb(search)}" if search else ""
        goal = f"<= {limit} KB gzip" + (" (site search counted apart)" if key == "interactive" else "")
        bench.targets.append(Target(f"Report page weight, {label}", goal, f"{_kb(weight)} gzip ({source[key]['requests']} requests, {how}){apart}", met, gap))
    if not browsed:
        bench.targets.append(Target("Report page CLS", "0", _missing(bench, "page"), None))
        return
    cls = max(v["cls_max"] for v in browsed["viewports"].values())
    shifts = {k: v["layout_shifts_max"] for k, v in browsed["viewports"].items()}
    shifted = "; ".join(f"{name}: {', '.join(v.get('shifted', []))}" for name, v in browsed["viewports"].items() if v.get("shifted"))
    gap = "" if cls == 0 else f"elements that moved: {shifted}"
    bench.targets.append(Target("Report page CLS", "0", f"{cls} (layout shifts per load, max: {shifts})", cls == 0, gap))


def _lighthouse_target(bench: Bench) -> None:
    lh = bench.results.get("lighthouse")
    name, goal = "Lighthouse, four categories, mobile and desktop", "100 each"
    if not lh:
        bench.targets.append(Target(name, goal, _missing(bench, "lighthouse"), None))
        return
    scores = {preset: lh[preset]["scores"] for preset in ("mobile", "desktop")}
    measured = "; ".join(f"{preset}: " + ", ".join(f"{k} {v:g}" for k, v in s.items()) for preset, s in scores.items())
    met = all(v == 100 for s in scores.values() for v in s.values())
    lost = {**lh["mobile"]["audits_losing_points"], **lh["desktop"]["audits_losing_points"]}
    bench.targets.append(Target(name, goal, measured, met, "" if met else "points lost on: " + "; ".join(lost.values())))


def _markdown(bench: Bench) -> str:
    r = bench.results
    m = r["machine"]
    out = [
        "# Benchmark results",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB memory, Python {m['python']}, {m['os']}; "
        f"load average {m['load_average_at_start'][0]} at the start, {m.get('load_average_at_end', ['?'])[0]} at the end. "
        f"Node.js {r['tools']['node']}, {r['tools']['chromium']}, MkDocs {r['tools']['mkdocs']}, vl-convert {r['tools']['vl_convert']}.",
        "",
        f"Measured: the project at commit {r['source']['commit']}, from the {r['source']['from']}"
        f"{' (with uncommitted changes)' if r['source']['uncommitted_changes'] else ''}. "
        f"Made by `bench/run.py`{' --smoke' if bench.config.smoke else ''} in {r['duration_s']:.0f} s. Each timing is the median of "
        f"{bench.config.runs} runs of a fresh child process (wall clock; CPU is user + system time of the child and its children; "
        "peak RSS from wait4). Python bytecode is cached (as after a normal install); the imports rows show the cost without it.",
        "",
        "## Targets",
        "",
        "| Target | Goal | Measured | Met | Gap and cause |",
        "| --- | --- | --- | --- | --- |",
    ]
    verdict = {True: "met", False: "**not met**", None: "not measured"}
    out += [f"| {t.name} | {t.goal} | {_cell(t.measured)} | {verdict[t.met]} | {_cell(t.gap)} |" for t in bench.targets]
    out += ["", "## Timings", "", "| Measurement | Median | CPU | Peak RSS | Runs | Notes |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for row in bench.rows:
        s = row.stat
        cells = [_s(s.median), _s(s.cpu_s), f"{s.rss_mb:.0f} MB", str(len(s.samples))] if s else ["", "", "", ""]
        out.append(f"| {row.name} | {' | '.join(cells)} | {_cell(row.note)} |")
    out += _ratios(r) + _stages(r) + _preview(r) + _weights(r) + _browser(r) + _lighthouse(r) + _scale(r)
    if bench.skipped or bench.errors:
        out += ["", "## Not measured", ""]
        out += [f"- {key}: not measured: {why}" for key, why in bench.skipped.items()]
        out += [f"- {key}: failed: {_cell(why)}" for key, why in bench.errors.items()]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _ratios(r: dict[str, Any]) -> list[str]:
    pairs = [
        ("No-change rebuild / bare `mkdocs build`", "rebuild_no_change", "bare_mkdocs"),
        ("Forced no-change rebuild (`--force`) / bare `mkdocs build`", "rebuild_forced", "bare_mkdocs"),
        ("Cold full build / Observable Framework clean build", "cold_build", ("peer", "clean_build")),
        ("No-change rebuild / Observable Framework warm build", "rebuild_no_change", ("peer", "warm_build")),
        ("Cold full build / bare `mkdocs build`", "cold_build", "bare_mkdocs"),
        ("Live preview, CSV value written → new value in the page: ours / Observable Framework preview", "preview", "peer_preview"),
    ]
    lines = []
    for label, a, b in pairs:
        first = r.get(a)
        second = r.get(b[0], {}).get(b[1]) if isinstance(b, tuple) else r.get(b)
        if first and second:
            lines.append(
                f"| {label} | {first['median_s'] / second['median_s']:.2f}x | {first.get('median_cpu_s', 0) / max(second.get('median_cpu_s', 0), 1e-9):.2f}x |"
            )
    ours = (r.get("page_browser") or {}).get("interactive")
    theirs = ((r.get("peer") or {}).get("page_browser") or {}).get("interactive")
    if ours and theirs:
        lines.append(f"| Report page gzip, interactive: ours / Observable Framework | {ours['gzip_bytes'] / theirs['gzip_bytes']:.2f}x | |")
    return ["", "## Ratios", "", "| Ratio | Wall clock | CPU |", "| --- | ---: | ---: |", *lines] if lines else []


def _stages(r: dict[str, Any]) -> list[str]:
    cold, warm = r.get("cold_stages"), r.get("rebuild_stages")
    if not cold:
        return []
    lines = ["", "## Build by stage (in-process split, medians)", "", "| Stage | Cold build | Rebuild, warm cache, every stage run |", "| --- | ---: | ---: |"]
    for stage, seconds in cold["stages_s"].items():
        lines.append(f"| {stage} | {_s(seconds)} | {_s(warm['stages_s'][stage]) if warm else ''} |")
    lines.append(f"| **total** | {_s(cold['total_s'])} | {_s(warm['total_s']) if warm else ''} |")
    libs = ", ".join(f"{k} {v:.2f} s" for k, v in cold["libraries_s"].items())
    calls = ", ".join(f"{k} {v}" for k, v in cold.get("units", {}).items())
    lines += ["", f"Imports, cold build, library by library (each after the ones before it): {libs}."]
    engines = f"{cold.get('engines')} chart engines" if cold.get("engines") else "the build's own process"
    lines += ["", f"Units per stage in the cold build (reports, charts): {calls}; charts drawn in {engines}; renders counted by the build: {cold['renders']}."]
    return lines


def _preview(r: dict[str, Any]) -> list[str]:
    sides = [(label, r[key]) for label, key in (("ours, `build_report.py serve`", "preview"), ("Observable Framework preview", "peer_preview")) if r.get(key)]
    if not sides:
        return []
    lines = ["", "## Live preview: one CSV value written → new value in the page (Chromium, medians)", "", "| Tool | Total | Steps (from its log) |"]
    lines.append("| --- | ---: | --- |")
    for label, entry in sides:
        steps = steps_text(entry["steps_s"], "not found in its log")
        lines.append(f"| {label} | {_s(entry['median_s'])} | {steps} |")
    return lines


def _weight_row(label: str, w: dict[str, Any]) -> str:
    cells = [
        _kb(w["gzip_by_type"].get(k)) + " / " + _kb(w["raw_by_type"].get(k)) if k in w["raw_by_type"] else "" for k in ("html", "css", "js", "images", "data")
    ]
    return f"| {label} | {w['requests']} | {' | '.join(cells)} | **{_kb(w['gzip_bytes'])}** / {_kb(w['raw_bytes'])} |"


def _weights(r: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Page weight (gzip / raw)",
        "",
        "| Page | Requests | HTML | CSS | JS | Images | Data | Total |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    start = len(lines)
    for key, label in (("page_browser", "in Chromium"), ("page_files", "from the files")):
        if r.get(key):
            lines.append(_weight_row(f"Report page, before interaction ({label})", r[key]["before"]))
            lines.append(_weight_row(f"Report page, charts interactive ({label})", r[key]["interactive"]))
    peer = r.get("peer") or {}
    if peer.get("page_browser"):
        lines.append(_weight_row("Observable Framework page, charts drawn (in Chromium)", peer["page_browser"]["interactive"]))
    for count, entry in (r.get("rows") or {}).items():
        if entry.get("page_weight"):
            lines.append(_weight_row(f"Report of {int(count):,} rows, charts interactive (files)", entry["page_weight"]["interactive"]))
    if len(lines) == start:
        return []
    responses = (r.get("page_browser") or {}).get("responses")
    if responses:
        heaviest = sorted(responses, key=lambda x: -x["gzip"])[:8]
        lines += ["", "Heaviest responses of the report page: " + ", ".join(f"`{x['path']}` {_kb(x['gzip'])}" for x in heaviest) + "."]
    return lines


def _browser(r: dict[str, Any]) -> list[str]:
    browsed = r.get("page_browser")
    if not browsed:
        return []
    header = "| Viewport | Charts visible (first paint, or the last chart image) | Interactive | DOMContentLoaded | Load | CLS (max) |"
    lines = ["", "## Report page in Chromium (medians)", "", header]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, v in browsed["viewports"].items():
        lines.append(
            f"| {name} | {v['charts_visible_ms']} ms | {v['interactive_ms']} ms | {v['dom_content_loaded_ms']} ms | {v['load_ms']} ms | {v['cls_max']} |"
        )
    lines.append(f"\nRequests to other hosts: {len(browsed.get('foreign_requests', []))}.")
    return lines


def _lighthouse(r: dict[str, Any]) -> list[str]:
    lh = r.get("lighthouse")
    if not lh:
        return []
    lines = ["", f"## Lighthouse {lh['version']} (median of the runs)", "", "| Preset | Performance | Accessibility | Best practices | SEO | Errored audits |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | --- |")
    for preset in ("mobile", "desktop"):
        s = lh[preset]["scores"]
        errored = ", ".join(lh[preset]["audits_errored"]) or "none"
        lines.append(f"| {preset} | {s['performance']:g} | {s['accessibility']:g} | {s['best-practices']:g} | {s['seo']:g} | {errored} |")
    return lines


def _scale(r: dict[str, Any]) -> list[str]:
    lines = []
    fit = (r.get("synthetic_reports") or {}).get("fit")
    if fit:
        lines += [
            "",
            "## Scale",
            "",
            f"Synthetic reports (3 charts each): sizes {fit['sizes']}, medians {fit['median_s']} s, slopes {fit['slopes_s_per_report']} s per report.",
        ]
    for count, entry in (r.get("rows") or {}).items():
        state = (
            "built"
            if entry["exit_code"] == 0
            else f"exit {entry['exit_code']}, {'clean error' if entry.get('clean_error') else 'NOT a clean error'}: {entry.get('error', '')[:300]}"
        )
        lines.append(
            f"- {int(count):,} rows ({entry['csv_bytes'] / 1e6:.1f} MB CSV): {_s(entry['median_s'])}, peak RSS {entry['peak_rss_mb']:.0f} MB; {_cell(state)}"
        )
    return lines


def _private(text: str) -> str:
    """``text`` without this machine's paths: the checkout and the temporary folder."""
    return text.replace(str(ROOT), "<repo>").replace(tempfile.gettempdir(), "<tmp>")


def write(bench: Bench) -> str:
    """Write the Markdown and the JSON results; return the Markdown."""
    text = _private(_markdown(bench))
    out = bench.config.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    document = {
        **bench.results,
        "targets": [{"name": t.name, "goal": t.goal, "measured": t.measured, "met": t.met, "gap": t.gap} for t in bench.targets],
        "not_measured": bench.skipped,
        "errors": bench.errors,
    }
    out.with_suffix(".json").write_text(_private(json.dumps(document, indent=1, default=str)) + "\n", encoding="utf-8")
    return text
