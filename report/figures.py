"""Render charts to the files published beside them: SVG, PNG, Vega and Vega-Lite specs, CSV."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import cast

from report.charts import FONT, Chart
from report.engine import Engine, draw, rasterise
from report.errors import ReportError
from report.strict import describe_char, forbidden_char, safe_repr
from report.tables import to_csv


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


def _key(text: str) -> str:
    return hashlib.sha256((text + _engine_version()).encode()).hexdigest()[:32]


SUFFIXES = (".svg", ".png", ".vg.json")


def render_charts(charts: Sequence[Chart], cache: RenderCache, engine: Engine) -> list[dict[str, bytes]]:
    """The published files of each chart, by file name; SVG, PNG and Vega come from the cache when they can, the rest are drawn at once."""
    texts = [dumps(chart.spec) for chart in charts]
    keys = [_key(text) for text in texts]
    found: list[dict[str, bytes | None]] = [{suffix: cache.get(key, suffix) for suffix in SUFFIXES} for key in keys]
    missing = [i for i, files in enumerate(found) if any(content is None for content in files.values())]
    for i in missing:
        _refuse_control_characters(charts[i])
    drawn = engine.map(draw, [(texts[i], charts[i].id) for i in missing])
    for i in missing:
        try:
            svg, png, vega = next(drawn)
        except ValueError as error:
            raise ReportError.at(
                charts[i].spec_file, f"chart {charts[i].id!r} could not be drawn: {error}", fix="check the chart's fields and options in the spec"
            ) from None
        cache.renders += 1
        found[i] = {".svg": svg, ".png": png, ".vg.json": dumps(vega).encode()}
        for suffix, content in found[i].items():
            cache.put(keys[i], suffix, cast(bytes, content))
    published = []
    for chart, text, files in zip(charts, texts, found, strict=True):
        named = {f"{chart.id}{suffix}": cast(bytes, content) for suffix, content in files.items()}
        named[f"{chart.id}.vl.json"] = text.encode()
        named[f"{chart.id}.csv"] = to_csv(chart.data).encode()
        published.append(named)
    return published


def render(chart: Chart, cache: RenderCache, engine: Engine | None = None) -> dict[str, bytes]:
    """The published files of one chart, by file name."""
    return render_charts([chart], cache, engine or Engine())[0]


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


def card_svg(title: str, subtitle: str, chart_svg: bytes) -> str:
    """A 1200×630 link-preview card: the title on the left, the page's main chart on the right."""
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
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{CARD_WIDTH}" height="{CARD_HEIGHT}" '
        f'viewBox="0 0 {CARD_WIDTH} {CARD_HEIGHT}"><rect width="{CARD_WIDTH}" height="{CARD_HEIGHT}" fill="#ffffff"/>'
        f'<rect width="{CARD_WIDTH}" height="12" fill="#3f51b5"/>{"".join(texts)}{nested}</svg>'
    )


def social_cards(cards: Sequence[str], cache: RenderCache, engine: Engine) -> list[bytes]:
    """Each card SVG as a PNG, from the cache when it can."""
    keys = [_key(svg) for svg in cards]
    found = [cache.get(key, ".card.png") for key in keys]
    missing = [i for i, png in enumerate(found) if png is None]
    for i, png in zip(missing, engine.map(rasterise, [(cards[i],) for i in missing]), strict=True):
        cache.renders += 1
        cache.put(keys[i], ".card.png", png)
        found[i] = png
    return [cast(bytes, png) for png in found]
