"""Render charts to the files published beside them: SVG, PNG, Vega and Vega-Lite specs, CSV."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from report.charts import FONT, Chart
from report.errors import ReportError
from report.strict import describe_char, forbidden_char, safe_repr
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
        temporary = self.folder / f".{key}{suffix}.{os.getpid()}.tmp"  # builds running at once each write their own
        temporary.write_bytes(content)
        temporary.replace(self.folder / f"{key}{suffix}")


def _engine_version() -> str:
    import vl_convert

    return f"vl-convert {metadata.version('vl-convert-python')} vega {vl_convert.get_vega_version()} stable-ids"


def render(chart: Chart, cache: RenderCache) -> dict[str, bytes]:
    """The published files of one chart, by file name; SVG, PNG and Vega come from the cache when they can."""
    spec_text = dumps(chart.spec)
    key = hashlib.sha256((spec_text + _engine_version()).encode()).hexdigest()[:32]
    rendered = {suffix: cache.get(key, suffix) for suffix in (".svg", ".png", ".vg.json")}
    if any(content is None for content in rendered.values()):
        import vl_convert

        _refuse_control_characters(chart)

        cache.renders += 1
        try:
            # Compile once, draw the SVG from the Vega spec, and rasterise that SVG: one Vega run per chart.
            vega = vl_convert.vegalite_to_vega(chart.spec)
            svg = _stable_ids(vl_convert.vega_to_svg(vega), chart.id)
            rendered = {".svg": svg.encode(), ".png": vl_convert.svg_to_png(svg, scale=PNG_SCALE), ".vg.json": dumps(vega).encode()}
        except ValueError as error:
            raise ReportError.at(
                chart.spec_file, f"chart {chart.id!r} could not be drawn: {error}", fix="check the chart's fields and options in the spec"
            ) from None
        for suffix, content in rendered.items():
            if content is not None:
                cache.put(key, suffix, content)
    files = {f"{chart.id}{suffix}": content for suffix, content in rendered.items()}
    files[f"{chart.id}.vl.json"] = spec_text.encode()
    files[f"{chart.id}.csv"] = to_csv(chart.data).encode()
    return files  # type: ignore[return-value]


def _stable_ids(svg: str, chart_id: str) -> str:
    """The SVG with the ids the renderer numbers across a whole run (gradient_7) numbered within the chart: same chart, same bytes."""
    found = list(dict.fromkeys(re.findall(r'id="((?:gradient|clip|pattern)_?\d+)"', svg)))
    for number, old in enumerate(found):
        svg = re.sub(rf'(?<=["#]){re.escape(old)}(?=[")])', f"{chart_id}-{old.rstrip('0123456789').rstrip('_')}-{number}", svg)
    return svg


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def _refuse_control_characters(chart: Chart) -> None:
    """Stop before the renderer sees a control character: it would abort the whole process (loading already refuses them)."""
    for text in _strings(chart.spec):
        match = forbidden_char(text)
        if match:
            raise ReportError.at(
                chart.spec_file,
                f"chart {chart.id!r} would draw a control character",
                expected="printable text",
                found=f"{describe_char(match.group())} in {safe_repr(text)}",
                fix="remove the character from the data or the spec",
            )


CARD_WIDTH, CARD_HEIGHT = 1200, 630


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def social_card(title: str, subtitle: str, chart_svg: bytes, cache: RenderCache) -> bytes:
    """A 1200×630 PNG for link previews: the title on the left, the page's main chart on the right."""
    from xml.sax.saxutils import escape

    chart = chart_svg.decode()
    opening = chart[: chart.index(">") + 1]
    view_box = re.search(r'viewBox="([^"]+)"', opening)
    nested = f'<svg x="600" y="40" width="570" height="550" viewBox="{view_box.group(1) if view_box else "0 0 400 400"}">' + chart[len(opening) :]
    title_lines = _wrap(title, 19)[:4]
    subtitle_lines = _wrap(subtitle, 40)[:5]
    texts = [
        f'<text x="56" y="{120 + 56 * i}" font-family="{FONT}" font-size="44" font-weight="700" fill="#1a1a1a">{escape(line)}</text>'
        for i, line in enumerate(title_lines)
    ]
    top = 120 + 56 * len(title_lines) + 24
    texts += [f'<text x="56" y="{top + 34 * i}" font-family="{FONT}" font-size="25" fill="#444">{escape(line)}</text>' for i, line in enumerate(subtitle_lines)]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{CARD_WIDTH}" height="{CARD_HEIGHT}" '
        f'viewBox="0 0 {CARD_WIDTH} {CARD_HEIGHT}"><rect width="{CARD_WIDTH}" height="{CARD_HEIGHT}" fill="#ffffff"/>'
        f'<rect width="{CARD_WIDTH}" height="12" fill="#3f51b5"/>{"".join(texts)}{nested}</svg>'
    )
    key = hashlib.sha256((svg + _engine_version()).encode()).hexdigest()[:32]
    cached = cache.get(key, ".card.png")
    if cached is not None:
        return cached
    import vl_convert

    cache.renders += 1
    png = vl_convert.svg_to_png(svg)
    cache.put(key, ".card.png", png)
    return png
