"""A streaming .xlsx writer for plain tables: rows go straight into the zip, no temporary files.

openpyxl's write-only mode builds every cell as an object, serialises it through an XML
library and spools each sheet to a plaintext temporary file before zipping it. A record export
is only tables of text, numbers and dates under a styled header, so this writer formats each
row as SpreadsheetML text itself and streams it into the (atomic) destination: several times
faster than bare openpyxl (``bench/bench_returns.py`` prints both), nothing personal written
anywhere but the file the user chose, and a sheet never longer than Excel and LibreOffice
accept (the caller splits; see ``MAX_ROWS``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

#: rows a worksheet holds in Excel and LibreOffice, the header included
MAX_ROWS = 1_048_576
_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_DATE = _EPOCH.date()
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_TEXT = 32767
_SHEET_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# style ids in styles.xml below
_DATE, _DATETIME, _HEADER, _TIME = 1, 2, 3, 4

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {_NS}><numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt
numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/><numFmt numFmtId="166" formatCode="hh:mm"/>
</numFmts><fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz
val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font><font><b/><sz val="14"/><color
rgb="FF1F5F5B"/><name val="Calibri"/></font></fonts><fills count="3"><fill><patternFill
patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill
patternType="solid"><fgColor rgb="FF1F5F5B"/><bgColor indexed="64"/></patternFill></fill>
</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf
numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf
numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf
numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/><xf
numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf
numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
TITLE_STYLE = 5


def _text(value: str) -> str:
    if _NEEDS_ESCAPE.search(value):
        value = escape(_ILLEGAL.sub("", value))
    if len(value) > _MAX_TEXT:
        value = value[:_MAX_TEXT]
    return value


def _letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def cell_xml(ref: str, value: Any) -> str:
    """One cell; ``ref`` like "B7". Blank values give an empty string (no cell)."""
    kind = value.__class__
    if kind is str:
        if not value:
            return ""
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if kind is int or kind is float:
        if kind is float and (value != value or value in (float("inf"), float("-inf"))):
            return ""
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is dt.datetime or isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
    if kind is dt.date or isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH_DATE).days}</v></c>'
    if isinstance(value, dt.time):
        serial = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return f'<c r="{ref}" s="{_TIME}"><v>{serial!r}</v></c>'
    if isinstance(value, int | float):
        return cell_xml(ref, float(value) if isinstance(value, float) else int(value))
    return cell_xml(ref, str(value))


class SheetWriter:
    """Rows of one worksheet, written as they come."""

    def __init__(
        self,
        handle: IO[bytes],
        widths: Sequence[float],
        *,
        freeze_header: bool = True,
    ) -> None:
        self._out = handle
        self.name = ""
        self.rows = 0
        self._letters = [_letters(j) for j in range(max(len(widths), 1))]
        head = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} ']
        head.append(f'{_REL_NS}><sheetViews><sheetView workbookViewId="0">')
        if freeze_header:
            head.append(
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            )
        head.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if widths:
            head.append("<cols>")
            head += [
                f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                for j, w in enumerate(widths, start=1)
            ]
            head.append("</cols>")
        head.append("<sheetData>")
        self._buffer: list[str] = ["".join(head)]
        self._size = 0

    def _letter(self, j: int) -> str:
        while j >= len(self._letters):
            self._letters.append(_letters(len(self._letters)))
        return self._letters[j]

    def styled_row(self, values: Iterable[Any], style: int) -> None:
        self.rows += 1
        n = self.rows
        cells = []
        for j, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{self._letter(j)}{n}"
            if isinstance(value, str):
                cells.append(
                    f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{_text(value)}</t></is></c>"
                )
            else:
                cells.append(cell_xml(ref, value).replace("<c ", f'<c s="{style}" ', 1))
        self._buffer.append(f'<row r="{n}">{"".join(cells)}</row>')

    def append(self, values: Sequence[Any]) -> None:
        self.rows += 1
        n = self.rows
        letters = self._letters
        if len(values) > len(letters):
            self._letter(len(values))
        self._buffer.append(
            f'<row r="{n}">'
            + "".join([cell_xml(f"{letters[j]}{n}", v) for j, v in enumerate(values)])
            + "</row>"
        )
        if len(self._buffer) >= 2000:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._out.write("".join(self._buffer).encode("utf-8"))
            self._buffer.clear()

    def close(self) -> None:
        self._buffer.append("</sheetData>")
        self._buffer.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )
        self.flush()
        self._out.close()


class Workbook:
    """A workbook streamed into ``handle`` (a seekable binary file)."""

    def __init__(self, handle: IO[bytes], *, title: str = "", creator: str = "") -> None:
        self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[tuple[str, str]] = []  # (name, part)
        self._order: list[int] = []
        self._open: IO[bytes] | None = None
        self.title, self.creator = title, creator

    def sheet(self, name: str, widths: Sequence[float], *, freeze_header: bool = True):
        """A new worksheet (the previous one must be closed); returns its writer. ``name`` is
        made valid: no []:*?/\\, at most 31 characters, unique."""
        name = _SHEET_NAME.sub("_", name).strip("'")[:31] or "Sheet"
        taken = {n.casefold() for n, _ in self._sheets}
        base, k = name, 2
        while name.casefold() in taken:
            suffix = f" ({k})"
            name = base[: 31 - len(suffix)] + suffix
            k += 1
        part = f"xl/worksheets/sheet{len(self._sheets) + 1}.xml"
        self._sheets.append((name, part))
        handle = self._zip.open(part, "w", force_zip64=True)
        self._open = handle
        writer = SheetWriter(handle, widths, freeze_header=freeze_header)
        writer.name = name
        return writer

    def order(self, names: Sequence[str]) -> None:
        """Show the sheets in this order (default: the order they were written)."""
        position = {name: k for k, (name, _) in enumerate(self._sheets)}
        self._order = [position[n] for n in names]

    def close(self) -> None:
        order = self._order or list(range(len(self._sheets)))
        z = self._zip
        overrides = "".join(
            f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            for _, part in self._sheets
        )
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
            'Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml"'
            ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/'
            'docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-'
            f'properties+xml"/>{overrides}</Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
            'http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1"'
            ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://'
            'schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>',
        )
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        z.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(self.title)}</dc:title><dc:creator>{escape(self.creator)}"
            f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            "</cp:coreProperties>",
        )
        sheets = "".join(
            f'<sheet name="{escape(self._sheets[k][0], {chr(34): "&quot;"})}" '
            f'sheetId="{k + 1}" r:id="rId{k + 1}"/>'
            for k in order
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} '
            f'{_REL_NS}><bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}'
            "</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{k + 1}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="/{part}"/>'
            for k, (_, part) in enumerate(self._sheets)
        )
        n = len(self._sheets)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="'
            f'http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/styles.xml", _STYLES)
        z.close()

    def abort(self) -> None:
        """Close the zip without finishing it (the caller discards the file)."""
        with contextlib.suppress(Exception):  # already failing; the file is thrown away
            if self._open is not None:
                self._open.close()
        with contextlib.suppress(Exception):
            self._zip.close()
        self._zip.fp = None  # the caller's file is discarded; never touch it again
