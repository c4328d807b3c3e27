"""Render charts to the files published beside them: SVG, PNG, Vega and Vega-Lite specs, CSV."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from claimsite.cache import folders, keeper
from claimsite.charts.engine import Crashed, Engine, Stalled, draw, isolated, rasterise
from claimsite.charts.vegalite import COMPOUND, FONT, Chart
from claimsite.core.errors import ReportError
from claimsite.core.limits import Limits, limits
from claimsite.core.strict import describe_char, forbidden_char, safe_repr
from claimsite.core.tables import to_csv


def dumps(value: object) -> str:
    """JSON with sorted keys and no wall-clock content, safe to embed in HTML."""
    return _safe(json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)) + "\n"


def dumps_lines(value: dict[str, Any], listed: str) -> str:
    """JSON as ``dumps`` writes it, but each item of the list ``listed`` compact on a line of its own: one claim per line,
    so that a change to a claim is a change to its line."""
    items = [_safe(json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)) for item in value[listed]]
    rest = _safe(json.dumps({k: v for k, v in value.items() if k != listed}, sort_keys=True, ensure_ascii=False, allow_nan=False))
    return "{" + json.dumps(listed) + ": [\n" + ",\n".join(items) + "\n]" + (", " + rest[1:] if rest != "{}" else "}") + "\n"


def _safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass
class RenderCache:
    """Chart renders kept on disk by the hash of their spec, so an unchanged chart is never re-rendered.

    Each entry is sealed (``claimsite.cache.keeper``): one this user's builds did not write, or that changed since, is drawn
    again. A cache that cannot be read or written costs a drawing, never the build.
    """

    folder: Path | None
    renders: int = 0

    def get(self, key: str, suffix: str) -> bytes | None:
        if self.folder is None:
            return None
        entry = self.folder / f"{key}{suffix}"
        try:
            sealed = entry.read_bytes()
        except OSError:
            return None
        content = keeper.unseal(sealed, f"chart {key}{suffix}")
        if content is not None:
            folders.used(entry)  # kept longest when the caches are pruned
        return content

    def put(self, key: str, suffix: str, content: bytes) -> None:
        if self.folder is None:
            return
        temporary = self.folder / f".{key}{suffix}.{os.getpid()}.tmp"  # builds running at once each write their own
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(keeper.seal(content, f"chart {key}{suffix}"))
            temporary.replace(self.folder / f"{key}{suffix}")
        except OSError:  # a full disk or a read-only folder: the drawing is kept in the site, not in the cache
            temporary.unlink(missing_ok=True)


def _engine_version() -> str:
    import vl_convert

    return f"vl-convert {metadata.version('vl-convert-python')} vega {vl_convert.get_vega_version()} stable-ids"


def _key(text: str) -> str:
    return hashlib.sha256((text + _engine_version()).encode()).hexdigest()[:32]


# Each chart is drawn at two widths: the content column of a desktop page, and a phone's (where the wide drawing, scaled
# down, would print its text too small to read). The page shows the one that fits; downloads are the wide one.
WIDE, NARROW = 688, 360


NARROW_LABELS = 145  # pixels a label may take in the narrow drawing (longer ones end in "…"; the tooltip has them whole)
NARROW_TEXT = 1.25  # the narrow drawing's text is this much larger: it is shown from 0.8 times its width (a 320 px phone)
_FONT_SIZES = frozenset({"fontSize", "labelFontSize", "titleFontSize"})


# Long axis and legend labels lose their middle, not their end, so that "model-large-7B" and "model-large-72B" stay apart.
def _middle_ellipsis(text: str) -> str:
    """A Vega expression: the text ``text`` (an expression) shortened to 14 characters by dropping its middle."""
    return f"length({text}) > 14 ? slice({text}, 0, 5) + '…' + slice({text}, -8) : {text}"


_SHORT_LABEL = "__short_label__"


PADDING = MappingProxyType({"left": 5, "top": 5, "right": 16, "bottom": 5})  # around a drawing, in pixels

# The advance widths of the printable ASCII characters, space to tilde, in thousandths of an em, in the charts' font
# (Liberation Sans, which has Arial's and Helvetica's metrics, upright and italic alike): a chart's title is wrapped into
# lines that fit its width. Other characters count as 0.6 em, or 1 em if they are wide (CJK).
# fmt: off
_ASCII_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)
# fmt: on


def text_width(text: str, size: float) -> float:
    """The width in pixels of ``text`` in the charts' font at ``size`` pixels (other than ASCII, an estimate on the wide side)."""
    return sum(_em_thousandths(char) for char in text) * size / 1000


def _em_thousandths(char: str) -> int:
    code = ord(char)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    if unicodedata.east_asian_width(char) in "WF" or unicodedata.category(char)[0] in "PS":  # CJK; dashes, "…", symbols
        return 1000
    return 722 if unicodedata.category(char) == "Lu" else 600


def sized(spec: dict[str, Any], width: int) -> dict[str, Any] | None:
    """The spec drawn ``width`` pixels wide, axes and legend included (None for a compound chart, drawn as written).

    Its title and subtitle are wrapped into lines that fit the width. Drawn narrow, text is larger, long labels are
    shortened and the legend takes one column, so that the chart fits a phone's width and stays legible there.
    """
    if any(key in spec for key in COMPOUND):
        return None
    drawn = {**spec, "width": width, "autosize": {"type": "fit-x", "contains": "padding"}, "padding": dict(PADDING)}
    if "title" in spec:
        scale = NARROW_TEXT if width < WIDE else 1
        drawn["title"] = _fitted_title(spec["title"], width - PADDING["left"] - PADDING["right"], spec.get("config", {}).get("title", {}), scale)
    return _narrowed(drawn) if width < WIDE else drawn


def _fitted_title(title: Any, width: int, config: dict[str, Any], scale: float) -> Any:
    """A chart's title (and subtitle) wrapped into lines that fit ``width`` pixels, so that no part of it is drawn
    outside the chart; a word longer than a line ends in "…" (Vega's limit)."""
    fitted = {"text": title} if isinstance(title, str | list) else title
    if not isinstance(fitted, dict):
        return title
    out = dict(fitted)
    for key, size_key in (("text", "fontSize"), ("subtitle", "subtitleFontSize")):
        lines = [fitted[key]] if isinstance(fitted.get(key), str) else fitted.get(key)
        if not isinstance(lines, list) or not lines or not all(isinstance(line, str) for line in lines):
            continue
        # A size that is written is drawn larger when narrow (_narrowed); Vega's own default (13 px) is not.
        size = fitted.get(size_key, config.get(size_key))
        at = size * scale if isinstance(size, int | float) else 13
        wrapped = [piece for line in lines for piece in _wrapped(line, at, width)]
        out[key] = wrapped[0] if len(wrapped) == 1 else wrapped
    limit = fitted.get("limit")
    out["limit"] = min(limit, width) if isinstance(limit, int | float) and limit > 0 else width
    return out


def _wrapped(line: str, size: float, width: int) -> list[str]:
    """``line`` in lines of whole words that fit ``width`` pixels (a word alone may not); breaks only at plain spaces."""
    lines: list[str] = []
    current = ""
    for word in re.split(r"[ \t]+", line.strip()):
        joined = f"{current} {word}" if current else word
        if current and text_width(joined, size) > width:
            lines.append(current)
            joined = word
        current = joined
    return [*lines, current]


def _narrowed(value: Any) -> Any:
    if isinstance(value, dict):
        out = {key: _narrowed(item) for key, item in value.items()}
        for key in _FONT_SIZES & out.keys():
            if isinstance(out[key], int | float):
                out[key] = round(out[key] * NARROW_TEXT, 1)
        if isinstance(out.get("labelLimit"), int | float):
            out["labelLimit"] = min(out["labelLimit"], NARROW_LABELS)
        if out.get("type") in ("nominal", "ordinal"):  # a channel of categories: its axis or legend labels shortened in the middle
            for guide in ("axis", "legend"):
                if isinstance(out.get(guide), dict):
                    out[guide] = {"labelLimit": NARROW_LABELS, "labelExpr": _middle_ellipsis("datum.label"), **out[guide]}
        mark, text = out.get("mark"), (out.get("encoding") or {}).get("text")
        if isinstance(mark, dict) and mark.get("type") == "text" and "dy" in mark and isinstance(text, dict) and "field" in text:  # points' labels
            field = re.sub(r"\\(.)", r"\1", text["field"])
            out["transform"] = [*out.get("transform", []), {"calculate": _middle_ellipsis(f"datum[{json.dumps(field)}]"), "as": _SHORT_LABEL}]
            out["encoding"] = {**out["encoding"], "text": {**text, "field": _SHORT_LABEL}}
        if "columns" in out and isinstance(out["columns"], int):
            out["columns"] = 1
        return out
    if isinstance(value, list):
        return [_narrowed(item) for item in value]
    return value


@dataclass(frozen=True)
class _Drawing:
    chart: int
    name: str  # the file it becomes: <id>.svg (with .png and .vg.json) or <id>.narrow.svg (with .narrow.vg.json if it zooms)
    text: str
    full: bool  # a PNG and the Vega spec too
    zoom: bool = False  # the Vega spec too, which the page loads when a reader zooms

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (".svg", ".png", ".vg.json") if self.full else (".svg", ".vg.json") if self.zoom else (".svg",)


def render_charts(charts: Sequence[Chart], cache: RenderCache, engine: Engine) -> list[dict[str, bytes]]:
    """The published files of each chart, by file name; drawings come from the cache when they can, the rest are drawn at once."""
    drawings: list[_Drawing] = []
    for i, chart in enumerate(charts):
        wide, narrow = sized(chart.spec, WIDE), sized(chart.spec, NARROW)
        drawings.append(_Drawing(i, chart.id, dumps(wide or chart.spec), True))
        if narrow is not None:
            drawings.append(_Drawing(i, f"{chart.id}.narrow", dumps(narrow), False, chart.zoom))
    keys = [_key(drawing.text) for drawing in drawings]
    found: list[dict[str, bytes | None]] = [{suffix: cache.get(key, suffix) for suffix in d.suffixes} for d, key in zip(drawings, keys, strict=True)]
    missing = [n for n, files in enumerate(found) if any(content is None for content in files.values())]
    bounds = limits()
    for i in sorted({drawings[n].chart for n in missing}):
        _refuse_control_characters(charts[i])
        _refuse_oversized(charts[i], bounds)
    made = _draw(charts, drawings, missing, engine, bounds)
    cache.renders += len({drawings[n].chart for n in missing})  # charts drawn (each at one or two widths)
    for n in missing:
        svg, png, vega = made[n]
        produced = {".svg": svg, ".png": png, ".vg.json": dumps(vega).encode()}
        found[n] = {suffix: produced[suffix] for suffix in drawings[n].suffixes}
        for suffix, content in found[n].items():
            cache.put(keys[n], suffix, cast(bytes, content))
    published: list[dict[str, bytes]] = [{} for _ in charts]
    for drawing, files in zip(drawings, found, strict=True):
        published[drawing.chart].update({f"{drawing.name}{suffix}": cast(bytes, content) for suffix, content in files.items()})
        if drawing.full:
            published[drawing.chart][f"{drawing.name}.vl.json"] = drawing.text.encode()
    for chart, named in zip(charts, published, strict=True):
        named[f"{chart.id}.csv"] = to_csv(chart.data).encode()
    return published


def _draw(charts: Sequence[Chart], drawings: list[_Drawing], missing: list[int], engine: Engine, bounds: Limits) -> dict[int, Any]:
    """The drawings not found in the cache, drawn: the build's own charts by the engine, an author's Vega-Lite in a process
    of its own; a chart that cannot be drawn, or that goes past a limit, is a located error."""
    own = [n for n in missing if not charts[drawings[n].chart].authored]
    drawn = engine.map(draw, [(drawings[n].text, drawings[n].name, drawings[n].full) for n in own])
    made: dict[int, Any] = {}
    for n in missing:
        chart = charts[drawings[n].chart]
        try:
            if n in own:
                made[n] = next(drawn)
            elif n not in made:  # this chart's drawings, at both widths, in a process of their own
                same = [m for m in missing if drawings[m].chart == drawings[n].chart]
                made.update(
                    zip(same, isolated(draw, [(drawings[m].text, drawings[m].name, drawings[m].full) for m in same], bounds.chart_seconds), strict=True)
                )
        except ValueError as error:
            raise ReportError.at(
                chart.spec_file, f"chart {chart.id!r} could not be drawn: {error}", fix="check the chart's fields and options in the spec"
            ) from None
        except (Stalled, Crashed) as error:
            raise ReportError.at(
                chart.spec_file,
                f"chart {chart.id!r} could not be drawn: {error}",
                line=chart.spec_line,
                fix="draw fewer marks (aggregate in a view first; an impute or a sequence over many values makes millions), "
                + bounds.raise_fix("chart_seconds"),
            ) from None
        png = made[n][1]
        if png is not None and len(png) > bounds.chart_pixels**2 * 4:
            raise ReportError.at(chart.spec_file, f"chart {chart.id!r} drew a picture of {len(png):,} bytes", line=chart.spec_line, fix="draw it smaller")
    return made


def _refuse_oversized(chart: Chart, bounds: Limits) -> None:
    """A chart whose declared width, height or step would draw a picture past the limit (height: 200000)."""
    for key, value in _sizes(chart.spec):
        if value > bounds.chart_pixels:
            asked, most = f"a {key} of {value:g} pixels", f"a {key} of at most {bounds.chart_pixels:g} pixels"
            fix = "draw it smaller, " + bounds.raise_fix("chart_pixels")
            raise ReportError.at(chart.spec_file, f"chart {chart.id!r} asks for {asked}", line=chart.spec_line, expected=most, found=f"{value:g}", fix=fix)


def _sizes(value: object) -> list[tuple[str, float]]:
    """Every width, height and step a spec declares, with its key."""
    found: list[tuple[str, float]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("width", "height", "step") and isinstance(item, int | float) and not isinstance(item, bool):
                found.append((key, float(item)))
            elif key in ("width", "height") and isinstance(item, dict) and isinstance(item.get("step"), int | float):
                found.append(("step", float(item["step"])))
            found += _sizes(item)
    elif isinstance(value, list):
        for item in value:
            found += _sizes(item)
    return found


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
