#!/usr/bin/env python3
"""Build this repository's example site with the engine beside it: ``python build_report.py build|check|serve|diff|new|init``.

The same commands as ``claimsite``, the engine's console command, which an author's own project runs instead.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
NEEDED = ("yaml", "pydantic", "jinja2", "pandas", "altair", "mkdocs", "frictionless", "vl_convert")


def _installed() -> bool:
    """Whether the engine is installed here, so that MkDocs finds its plugin (``make site`` installs it)."""
    try:
        return bool(metadata.entry_points(group="mkdocs.plugins", name="claimsite"))
    except Exception:
        return False


def _ensure_libraries() -> None:
    """Run under the project's .venv when the libraries are not importable here, or say how to install them."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None] + ([] if _installed() else ["claimsite"])
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
    from claimsite.cli.main import main

    sys.exit(main())
