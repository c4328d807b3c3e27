"""The peer: the same report page made with Observable Framework (bench/peer/), built offline from node_modules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from harness import BENCH, PEERS, NotMeasured, Sample, Stat, child_env, repeat, run, which

PACKAGES = ("@observablehq/framework", "@observablehq/plot", "d3-dsv")
SOURCE = BENCH / "peer"
PROJECT = PEERS / "site"
# Ready when Plot has drawn the three charts (each a figure, or an svg when it has no legend or title).
PEER_READY = "() => document.querySelectorAll('#observablehq-main svg[class^=\"plot-\"]').length >= 3"


def framework_cli() -> Path:
    """Observable Framework's command line under bench/.peers, installing it from npm if it is missing."""
    cli = PEERS / "node_modules" / "@observablehq" / "framework" / "dist" / "bin" / "observable.js"
    if cli.is_file() and all((PEERS / "node_modules" / p).is_dir() for p in PACKAGES):
        return cli
    if not which("node") or not which("npm"):
        raise NotMeasured("Node.js and npm are needed for the Observable Framework peer")
    npm_install(*PACKAGES)
    if not cli.is_file():
        raise NotMeasured("npm did not install @observablehq/framework")
    return cli


def npm_install(*packages: str) -> Sample:
    """``npm install --prefix bench/.peers`` of ``packages``; a NotMeasured when it fails (offline, say)."""
    PEERS.mkdir(parents=True, exist_ok=True)
    sample = run(["npm", "install", "--prefix", str(PEERS), "--no-audit", "--no-fund", *packages], cwd=PEERS, timeout=900)
    if sample.returncode != 0:
        raise NotMeasured(f"npm install {' '.join(packages)} failed: {sample.stderr.strip().splitlines()[-1:] or sample.returncode}")
    return sample


def prepare(source: Path, destination: Path = PROJECT) -> Path:
    """A fresh copy of the peer project at ``destination`` under bench/.peers (so node_modules resolves), with the CSVs from ``source``/data."""
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(SOURCE, destination)
    data = destination / "src" / "data"
    data.mkdir(parents=True, exist_ok=True)
    for csv in sorted((source / "data").glob("*.csv")):
        shutil.copy2(csv, data / csv.name)
    return destination


def builds(runs: int, source: Path) -> dict[str, Any]:
    """Clean builds (no dist/, no cache) and warm builds (cache and dist kept) of the peer page."""
    cli = framework_cli()
    project = prepare(source)
    env = child_env(OBSERVABLE_TELEMETRY_DISABLE="true")
    cmd = ["node", str(cli), "build"]

    def clean(_: int) -> Sample:
        shutil.rmtree(project / "dist", ignore_errors=True)
        shutil.rmtree(project / "src" / ".observablehq" / "cache", ignore_errors=True)
        return run(cmd, cwd=project, env=env).check("observable build (clean)")

    def warm(_: int) -> Sample:
        return run(cmd, cwd=project, env=env).check("observable build (warm)")

    cold: Stat = repeat(runs, clean)
    again: Stat = repeat(runs, warm)
    return {"clean": cold, "warm": again, "dist": project / "dist", "version": version()}


def version() -> str:
    """The version of Observable Framework installed under bench/.peers."""
    import json

    package_json = (PEERS / "node_modules" / "@observablehq" / "framework" / "package.json").read_text(encoding="utf-8")
    return str(json.loads(package_json).get("version", "?"))
