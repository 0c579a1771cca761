"""The cell styles of a streamed workbook (``xlsxstream``), written out as its styles.xml.

A style is a plain, hashable description of how a cell looks. Each distinct one is registered
once and gets the index a cell names in its ``s`` attribute, so a sheet of tens of thousands of
cells costs one dictionary look-up per style, not a style object per cell (which is most of the
time openpyxl takes to write such a sheet).
"""

from __future__ import annotations

import dataclasses
from xml.sax.saxutils import escape, quoteattr

#: number formats every spreadsheet knows by number (ECMA-376 part 1, 18.8.30)
_BUILTIN_FORMATS = {"0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
_FIRST_CUSTOM_FORMAT = 164
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@dataclasses.dataclass(frozen=True, slots=True)
class Style:
    """How a cell looks. Colours are RRGGBB; an empty value is the spreadsheet's default."""

    bold: bool = False
    italic: bool = False
    size: float = 11
    color: str = ""
    fill: str = ""
    number_format: str = ""
    horizontal: str = ""
    vertical: str = ""
    wrap: bool = False

    def font(self) -> tuple:
        return (self.bold, self.italic, self.size, self.color)

    def alignment(self) -> str:
        parts = []
        if self.horizontal:
            parts.append(f"horizontal={quoteattr(self.horizontal)}")
        if self.vertical:
            parts.append(f"vertical={quoteattr(self.vertical)}")
        if self.wrap:
            parts.append('wrapText="1"')
        return f"<alignment {' '.join(parts)}/>" if parts else ""


PLAIN = Style()
DATE = Style(number_format="dd/mm/yyyy")
DATETIME = Style(number_format="dd/mm/yyyy hh:mm")
HEADER = Style(bold=True, color="FFFFFF", fill="1F5F5B")
TIME = Style(number_format="hh:mm")
TITLE = Style(bold=True, size=14, color="1F5F5B")


class Styles:
    """A workbook's styles, by index. The first six are fixed, so a cell can name them without
    asking: plain 0, date 1, date and time 2, header 3, time 4, title 5."""

    def __init__(self) -> None:
        self._index: dict[Style, int] = {}
        for style in (PLAIN, DATE, DATETIME, HEADER, TIME, TITLE):
            self.add(style)

    def add(self, style: Style) -> int:
        """The index of ``style``, registering it the first time."""
        index = self._index.get(style)
        if index is None:
            index = self._index[style] = len(self._index)
        return index

    def xml(self) -> str:
        styles = list(self._index)  # in index order (dicts keep insertion order)
        fonts = list(dict.fromkeys(s.font() for s in styles))
        fills = list(dict.fromkeys(s.fill for s in styles if s.fill))
        custom = [f for f in dict.fromkeys(s.number_format for s in styles) if f]
        custom = [f for f in custom if f not in _BUILTIN_FORMATS]
        formats = {f: _FIRST_CUSTOM_FORMAT + k for k, f in enumerate(custom)} | _BUILTIN_FORMATS
        out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>']
        if custom:
            out.append(f'<numFmts count="{len(custom)}">')
            out += [f'<numFmt numFmtId="{formats[f]}" formatCode={quoteattr(f)}/>' for f in custom]
            out.append("</numFmts>")
        out.append(f'<fonts count="{len(fonts)}">')
        for bold, italic, size, color in fonts:
            out.append(
                "<font>"
                + ("<b/>" if bold else "")
                + ("<i/>" if italic else "")
                + f'<sz val="{size:g}"/>'
                + (f'<color rgb="FF{escape(color)}"/>' if color else "")
                + '<name val="Calibri"/></font>'
            )
        out.append(
            f'</fonts><fills count="{len(fills) + 2}"><fill><patternFill patternType="none"/>'
            '</fill><fill><patternFill patternType="gray125"/></fill>'
        )
        out += [
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{escape(fill)}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
            for fill in fills
        ]
        out.append(
            '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
            '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
            f'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{len(styles)}">'
        )
        for style in styles:
            font = fonts.index(style.font())
            fill = fills.index(style.fill) + 2 if style.fill else 0
            number = formats.get(style.number_format, 0)
            align = style.alignment()
            out.append(
                f'<xf numFmtId="{number}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
                + (' applyNumberFormat="1"' if number else "")
                + (' applyFont="1"' if font else "")
                + (' applyFill="1"' if fill else "")
                + (f' applyAlignment="1">{align}</xf>' if align else "/>")
            )
        out.append(
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )
        return "".join(out)
