"""Render charts to the files published beside them: SVG, PNG, Vega and Vega-Lite specs, CSV."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from report.charts import Chart
from report.tables import to_csv

PNG_SCALE = 2


def dumps(value: object) -> str:
    """JSON with sorted keys and no wall-clock content, safe to embed in HTML."""
    text = json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


@dataclass
class RenderCache:
    """Chart renders kept on disk by the hash of their spec, so an unchanged chart is never re-rendered."""

    folder: Path | None
    renders: int = 0

    def get(self, key: str, suffix: str) -> bytes | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}{suffix}"
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, suffix: str, content: bytes) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{key}{suffix}.tmp"
        temporary.write_bytes(content)
        temporary.replace(self.folder / f"{key}{suffix}")


def _engine_version() -> str:
    import vl_convert

    return f"vl-convert {vl_convert.__version__} vega {vl_convert.get_vega_version()}"


def render(chart: Chart, cache: RenderCache) -> dict[str, bytes]:
    """The published files of one chart, by file name; SVG, PNG and Vega come from the cache when they can."""
    spec_text = dumps(chart.spec)
    key = hashlib.sha256((spec_text + _engine_version()).encode()).hexdigest()[:32]
    rendered = {suffix: cache.get(key, suffix) for suffix in (".svg", ".png", ".vg.json")}
    if any(content is None for content in rendered.values()):
        import vl_convert

        cache.renders += 1
        rendered = {
            ".svg": vl_convert.vegalite_to_svg(chart.spec).encode(),
            ".png": vl_convert.vegalite_to_png(chart.spec, scale=PNG_SCALE),
            ".vg.json": dumps(vl_convert.vegalite_to_vega(chart.spec)).encode(),
        }
        for suffix, content in rendered.items():
            cache.put(key, suffix, content)
    files = {f"{chart.id}{suffix}": content for suffix, content in rendered.items()}
    files[f"{chart.id}.vl.json"] = spec_text.encode()
    files[f"{chart.id}.csv"] = to_csv(chart.data).encode()
    return files  # type: ignore[return-value]
