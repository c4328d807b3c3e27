"""Numbers typed by hand in a report's prose: found in the text of its claims (refused) and of its page (listed, counted).

A quantity is a numeral standing on its own: ``30``, ``1,000``, ``2.5``, ``95%``, ``2023``. A numeral inside a name
is not one: attached to letters or a hyphen (``Model-7B``, ``GPT4``, ``s1k``), or after a word that names a figure,
a table or a part (``Table 2``, ``Figure 6``, ``Section 3``). What ``{{ … }}`` prints is not typed: it comes from the
data, or, through ``literal()``, is a number the author means as written (``{{ literal("95%") }}``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import jinja2

# A numeral standing on its own, with its sign, currency or percent sign, and a unit written onto it (10k, 3x):
# not one attached to a name (GPT4, s1k, Model-7B), nor a version's or a path's parts (2.5.1, data/x2.csv).
QUANTITY = re.compile(r"(?<![A-Za-z]-)(?<![\w./:#@'’])[-+−$€£¥]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?%|[A-Za-z]+)?(?!\w|-[A-Za-z]|[.,]\d)")
# Words after which a numeral names something (Table 2) rather than counts it
NAMING = frozenset(
    {
        *("table", "tables", "figure", "figures", "fig", "section", "sections", "chapter", "appendix", "equation", "eq"),
        *("panel", "part", "step", "stage", "phase", "round", "version", "level", "item"),
    }
)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?\s+$")
_CODE = re.compile(r"\]\([^)\n]*\)|<[^>\n]*>|https?://\S+|\{[^{}\n]*=[^{}\n]*\}")  # link targets, tags, attributes
# Code blocks, and code spans (which may run over a line break, not over a blank line)
_SHOWN_AS_CODE = re.compile(r"^(```|~~~).*?^\1|`(?:[^`\n]|\n(?!\s*\n))+`", re.MULTILINE | re.DOTALL)
_LEXER = jinja2.Environment()


@dataclass(frozen=True)
class Typed:
    """A number typed in prose: its line in the text, the number and the words around it."""

    line: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"{self.number} (“{self.context}”)"


def typed_quantities(source: str) -> list[Typed]:
    """The quantities a template's own text types (outside ``{{ }}`` and ``{% %}``, code spans, links and tags)."""
    found: list[Typed] = []
    source = _SHOWN_AS_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)  # code shows code, not prose
    try:
        tokens = list(_LEXER.lex(source))
    except jinja2.TemplateSyntaxError:
        return found  # the template's own error is reported when it is rendered
    at_line_start = True  # whether the text so far ends a line (a numbered list's item starts one)
    for line, kind, text in tokens:
        if kind != "data":
            at_line_start = False
            continue
        blanked = _CODE.sub(lambda m: " " * len(m.group(0)), text)
        for match in QUANTITY.finditer(blanked):
            before = _WORD_BEFORE.search(blanked[: match.start()])
            if before and before.group(1).lower() in NAMING:
                continue
            newline = blanked.rfind("\n", 0, match.start())
            starts_line = blanked[newline + 1 : match.start()].strip() == "" and (newline >= 0 or at_line_start)
            if starts_line and text[match.end() : match.end() + 2] in (". ", ".\n", ") "):
                continue  # a numbered list's item
            context = " ".join(text[max(0, match.start() - 30) : match.end() + 30].split())
            found.append(Typed(line + text.count("\n", 0, match.start()), match.group(0).strip(), context))
        at_line_start = text.endswith("\n")
    return found


def marked(source: str) -> int:
    """How many numbers a template marks as meant as written, with ``literal(…)``."""
    try:
        tokens = [(kind, value) for _, kind, value in _LEXER.lex(source) if kind not in ("whitespace", "data")]
    except jinja2.TemplateSyntaxError:
        return 0
    return sum(1 for (kind, value), (_, after) in itertools.pairwise(tokens) if kind == "name" and value == "literal" and after == "(")


def literal(text: object) -> str:
    """A number the author means as written (a confidence level, a count fixed by design), printed as given."""
    return str(text)
