#!/usr/bin/env python3
"""Build the report site from the CSVs in data/: ``python build_report.py build|check|serve|diff|new|init``."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
NEEDED = ("yaml", "pydantic", "jinja2", "pandas", "altair", "mkdocs", "frictionless", "vl_convert")


def _ensure_libraries() -> None:
    """Run under the project's .venv when the libraries are not importable here, or say how to install them."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        return
    python = VENV / "bin" / "python"
    if python.is_file() and Path(sys.prefix).resolve() != VENV.resolve() and not os.environ.get("BUILD_REPORT_IN_VENV"):
        os.environ["BUILD_REPORT_IN_VENV"] = "1"
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    sys.exit(
        f"error: the libraries the build needs are not installed ({', '.join(missing)} missing).\n"
        "  fix:      run `make site` once in this folder: it creates .venv and installs them; then run this command again."
    )


if __name__ == "__main__":
    _ensure_libraries()
    sys.path.insert(0, str(HERE))
    from report.cli import main

    sys.exit(main())
