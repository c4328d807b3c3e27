#!/usr/bin/env python3
"""Build the report site from the CSVs in data/: ``python build_report.py build|check|serve``."""

from __future__ import annotations

import sys

from report.cli import main

if __name__ == "__main__":
    sys.exit(main())
