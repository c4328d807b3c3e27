"""The command line: build, check, serve. A thin layer over the build stages."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from claimsite import __version__
from claimsite.core.errors import ReportError
from claimsite.core.links import link_problem
from claimsite.core.offline import offline


def _site_url(url: str | None) -> str | None:
    """The --site-url, checked: an http or https address, written into every page's links and meta tags."""
    problem = link_problem(url, absolute=True) if url is not None else None
    if problem:
        raise ReportError.at(
            "--site-url", problem, expected="e.g. https://<user>.github.io/<repo>/", found=url, fix="give the address the site is published at"
        )
    return url if url is None or url.endswith("/") else url + "/"


def _build(args: argparse.Namespace) -> int:
    from claimsite.cache.uptodate import build_key, record, up_to_date
    from claimsite.site.folder import check_site_dir

    started = time.perf_counter()
    root = Path(args.root)
    site_dir = check_site_dir(root, root / args.site_dir, args.site_dir)
    site_url = _site_url(args.site_url)
    key = build_key(root, site_url, args.publisher)
    if not args.force and up_to_date(root, site_dir, key):
        print(f"{args.site_dir}/ is up to date: no input changed since it was built ({time.perf_counter() - started:.2f} s).")
        return 0

    from claimsite.charts.engine import engine_for
    from claimsite.core.project import Project

    project = Project(root)
    # With no chart drawn yet, the chart engines start now and warm up while the build's libraries import.
    with engine_for(project.cache) as engine:
        imported = time.perf_counter()
        from claimsite.pages.render import plural
        from claimsite.site.build import Clock, generate
        from claimsite.site.publish import publish

        clock = Clock(seconds={"imports": time.perf_counter() - imported})
        generated = generate(project, engine=engine, clock=clock)
    with clock.stage("mkdocs"):
        changed = publish(project.root, generated, site_dir, site_url, args.publisher)
    record(root, site_dir, key)
    from claimsite.cache.folders import prune
    from claimsite.core.limits import limits

    prune(root, int(limits().cache_mb * 1024 * 1024))
    seconds = time.perf_counter() - started
    claims = sum(len(r.claims) for r in generated.reports)
    print(
        f"Built {args.site_dir}/ in {seconds:.1f} s: {plural(generated.reports, 'report')}, {plural(claims, 'claim')} checked, "
        f"{plural(generated.renders, 'chart')} rendered, {plural(changed, 'file')} changed."
    )
    if args.timings:
        drawn = f" on {engine.workers} engines" if engine.workers else ""
        print("Seconds by stage: " + ", ".join(f"{stage} {spent:.2f}" + (drawn if stage == "chart drawing" else "") for stage, spent in clock.seconds.items()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from claimsite.core.project import Project
    from claimsite.pages.render import plural
    from claimsite.site.build import check

    generated = check(Project(Path(args.root)))
    reports = generated.reports
    claims = sum(len(r.claims) for r in reports)
    assertions = sum(1 for r in reports for c in r.claims.values() if c.kind == "assertion")
    held = f"{plural(assertions, 'assertion')} {'holds' if assertions == 1 else 'hold'}"
    print(f"OK: data valid, {plural(reports, 'report')}, {plural(claims, 'claim')} checked ({held}), templates render.")
    typed = [(file, number) for file, numbers in generated.typed.items() for number in numbers]
    if typed:
        how = 'print each from the data, or mark one meant as written: {{ literal("95%") }}'
        print(f"{plural(len(typed), 'number')} typed by hand in the page templates ({how}):")
        for file, number in typed:
            print(f"  {file}:{number.line}: {number}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from claimsite.claims.changes import claims_at, compare, load_json, to_markdown
    from claimsite.claims.check import current_claims
    from claimsite.core.history import baseline_ref, describe_ref
    from claimsite.core.project import Project

    root = Path(args.root)
    if args.files:
        if len(args.files) != 2:
            raise ReportError.at("claimsite diff", "give two claims.json files, or none", expected="OLD NEW", found=" ".join(args.files))
        old, new = (load_json(Path(f)) for f in args.files)
        labels = args.files
    else:
        ref = args.against or baseline_ref(root)
        if ref is None:
            raise ReportError.at("claimsite diff", "no earlier version to compare with", fix="name one with --against <git-ref>")
        old = claims_at(root, ref, Project(root).claims_cache)
        if old is None:
            raise ReportError.at("claimsite diff", f"the data at {ref} could not be read", fix="choose a version whose data validates")
        new = current_claims(Project(root))
        labels = [describe_ref(root, ref), "the working tree"]
    print(to_markdown(compare(old, new), labels[0], labels[1], heading="###"), end="")
    return 0


def _new(args: argparse.Namespace) -> int:
    from claimsite.cli.scaffold import new_report

    root = Path(args.root)
    written, guessed = new_report(root, args.slug, Path(args.csv))
    print(f"Created the report {args.slug!r}:")
    for path in written:
        print(f"  {path.relative_to(root) if path.is_relative_to(root) else path}")
    if guessed:
        print("Guessed from the CSV (confirm in data/datapackage.yaml):")
        for note in guessed:
            print(f"  - {note}")
    print("Replace each TO CONFIRM, then run `claimsite build` (or `claimsite check`).")
    return 0


def _init(args: argparse.Namespace) -> int:
    from claimsite.cli.scaffold import init_site

    folder = Path(args.folder)
    site_url = _site_url(args.site_url)
    footer = args.footer or f"{args.title}. Built from data by claimsite."
    written = init_site(folder, args.title, args.description or args.title, site_url, footer)
    print(f"Started the project {args.title!r} in {folder}:" + "".join(f"\n  {path}" for path in written))
    print(f"Next: cd {folder}, add a report with `claimsite new <slug> --csv <file>`, then `claimsite build`.")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from claimsite.cache import folders, keeper
    from claimsite.core.limits import limits

    root = Path(args.root)
    if args.action == "clear":
        freed = folders.clear(root)
        print(f"Removed .cache/ ({freed / 1e6:,.1f} MB): every chart, claim and data store is made again by the next build.")
        return 0
    for kept in folders.info(root):
        shown = kept.folder.relative_to(root) if kept.folder.is_relative_to(root) else kept.folder
        print(f"{str(shown) + '/':<16} {kept.files:>7,} files {kept.size / 1e6:>9,.1f} MB  {kept.what}")
    limit = limits().cache_mb
    print(f"Pruned past {limit:,.0f} MB (REPORT_CACHE_MB), the entries used longest ago first; `cache clear` empties it.")
    print(f"Every entry is sealed with this user's key, {keeper.key_file()}: one this user's builds did not write is made again.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from claimsite.site.preview import serve

    serve(Path(args.root), args.dev_addr)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    main = argparse.ArgumentParser(description="Build the report site from the CSVs in data/.")  # named as it was run
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    main.add_argument("--root", default=".", help="the project folder (default: the current one)")
    commands = main.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="validate, check every claim, render charts and build site/")
    build.add_argument("--site-dir", default="site", help="where to put the site, relative to the project folder (default: site)")
    build.add_argument("--site-url", default=None, help="the URL the site is published at (overrides mkdocs.yml)")
    build.add_argument("--force", action="store_true", help="build even when no input changed since the last build")
    build.add_argument("--timings", action="store_true", help="print the seconds each stage of the build took")
    build.add_argument("--publisher", choices=("mkdocs", "zensical"), default="mkdocs", help="what turns the pages into the site: MkDocs (default) or Zensical")
    build.set_defaults(run=_build)
    check = commands.add_parser("check", help="validate data, claims and templates without writing anything")
    check.set_defaults(run=_check)
    diff = commands.add_parser("diff", help="print in Markdown how the claims changed between two versions")
    diff.add_argument("files", nargs="*", help="two claims.json files, old then new")
    diff.add_argument("--against", metavar="REF", help="compare the working tree with this git version (default: the previous data version)")
    diff.set_defaults(run=_diff)
    new = commands.add_parser("new", help="scaffold a report from a CSV: data, description, spec and page")
    new.add_argument("slug", help="the report's name in URLs, e.g. team-results")
    new.add_argument("--csv", required=True, help="the CSV to start from (copied into data/)")
    new.set_defaults(run=_new)
    init = commands.add_parser("init", help="start a project of one's own in a new or empty folder")
    init.add_argument("folder", nargs="?", default=".", help="where to start it (default: the current folder)")
    init.add_argument("--title", required=True, help="the site's title (site_name in mkdocs.yml)")
    init.add_argument("--description", default=None, help="one sentence on the site (default: the title)")
    init.add_argument("--site-url", default=None, help="the address it will be published at, e.g. https://<user>.github.io/<repo>/")
    init.add_argument("--footer", default=None, help="the footer line (copyright in mkdocs.yml)")
    init.set_defaults(run=_init)
    cache = commands.add_parser("cache", help="what the build keeps in .cache/ (info), or empty it (clear)")
    cache.add_argument("action", choices=("info", "clear"), help="info: each cache, its files and size; clear: remove .cache/")
    cache.set_defaults(run=_cache)
    serve = commands.add_parser("serve", help="preview the site, rebuilt when a CSV, spec or template changes")
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on (default: 127.0.0.1:8000)")
    serve.set_defaults(run=_serve)
    return main


def main(argv: list[str] | None = None) -> int:
    """Run the command line; user mistakes print as located messages, with no traceback."""
    args = parser().parse_args(argv)
    stopping = signal.signal(signal.SIGTERM, _interrupted) if threading.current_thread() is threading.main_thread() else None
    try:
        if args.command != "init" and not Path(args.root, "mkdocs.yml").is_file():
            raise ReportError.at(args.root, "not a report project: no mkdocs.yml here", fix="run the command in the project folder, or give it with --root")
        with offline():
            return int(args.run(args))
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C or a termination: what the build started has stopped with it (the site is as it was)
        print("stopped: nothing was published", file=sys.stderr)
        return 130
    except RuntimeError as error:
        if "interrupted" not in str(error).lower():  # DuckDB says so when Ctrl-C stops one of its queries
            raise
        print("stopped: nothing was published", file=sys.stderr)
        return 130
    finally:
        if stopping is not None:
            signal.signal(signal.SIGTERM, stopping)


def _interrupted(number: int, frame: object) -> None:
    """A termination (SIGTERM) stops the build as Ctrl-C does: what it started stops, the site stays as it was."""
    raise KeyboardInterrupt
