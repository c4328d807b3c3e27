"""Turn result tables in data/ into a checked, static report site."""

from __future__ import annotations

__version__ = "0.1.0"
