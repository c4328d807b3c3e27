"""Links the site writes: http or https with a host, or a relative path; nothing a browser would run or load from elsewhere."""

from __future__ import annotations

import html
import re

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_UNSAFE = re.compile(r"[\s<>\"'`\\]")


def link_problem(url: str, absolute: bool = False) -> str | None:
    """Why ``url`` may not be written into the site (None when it may): another scheme, no host, unsafe characters."""
    text = html.unescape(url).strip()
    scheme = _SCHEME.match(text)
    if scheme and scheme.group(1).lower() not in {"http", "https"}:
        return f"a link must be http, https or a relative path, not {scheme.group(1)}:"
    if (scheme or absolute) and not re.match(r"https?://[^/\s?#]+", text, re.IGNORECASE):
        return "an http or https link needs a host, e.g. https://example.org/"
    if text.startswith(("//", "\\")):
        return "a relative link may not start with // (that is another host)"
    if _UNSAFE.search(url) or _UNSAFE.search(text):
        return "a link may not hold spaces, quotes, angle brackets or backslashes"
    return None
