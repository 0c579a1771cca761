"""A streaming .xlsx writer for plain tables: rows go straight into the zip, no temporary files.

openpyxl's write-only mode builds every cell as an object, serialises it through an XML
library and spools each sheet to a plaintext temporary file before zipping it. A record export
and the evaluation pack are tables of text, numbers and dates, each cell in one of a few
styles (``xlsxstyles``), so this writer formats each row as SpreadsheetML text itself and
streams it into the (atomic) destination: several times faster than bare openpyxl
(``bench/bench_returns.py`` prints both), nothing personal written anywhere but the file the
user chose, and a sheet never longer than Excel and LibreOffice accept (the caller splits; see
``MAX_ROWS``). Sheets can keep rows and columns in view, carry filter buttons, and print
landscape across one page's width.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

from vrp_desktop.returns.xlsxstyles import Style, Styles

#: rows a worksheet holds in Excel and LibreOffice, the header included
MAX_ROWS = 1_048_576
_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_DATE = _EPOCH.date()
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_TEXT = 32767
_INF = float("inf")
_SHEET_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# the fixed style ids (``xlsxstyles.Styles``)
_DATE, _DATETIME, _HEADER, _TIME = 1, 2, 3, 4

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
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


def cell_xml(ref: str, value: Any, style: int = 0) -> str:
    """One cell; ``ref`` like "B7"; ``style`` an index from ``Workbook.style`` (0: none, and a
    date's or time's own format). Blank values give an empty string (no cell)."""
    kind = value.__class__
    s = f' s="{style}"' if style else ""
    if kind is str:
        if not value:
            return ""
        return (
            f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
        )
    if kind is int:
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if kind is float:
        if value != value or value in (_INF, -_INF):
            return ""
        # 16 significant digits, as openpyxl writes them (a whole number as "10", not "10.0");
        # Excel shows 15
        return f'<c r="{ref}"{s}><v>{value:.16g}</v></c>'
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if kind is dt.datetime or isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or _DATETIME}"><v>{serial!r}</v></c>'
    if kind is dt.date or isinstance(value, dt.date):
        return f'<c r="{ref}" s="{style or _DATE}"><v>{(value - _EPOCH_DATE).days}</v></c>'
    if isinstance(value, dt.time):
        serial = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return f'<c r="{ref}" s="{style or _TIME}"><v>{serial!r}</v></c>'
    if isinstance(value, int | float):
        return cell_xml(ref, float(value) if isinstance(value, float) else int(value), style)
    return cell_xml(ref, str(value), style)


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    """ "A4:J9" as "$A$4:$J$9"."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", end) for end in ref.split(":"))


def _pane(rows: int, columns: int) -> str:
    """The view frozen above ``rows`` and left of ``columns``."""
    if not rows and not columns:
        return ""
    corner = f"{_letters(columns)}{rows + 1}"
    pane = {(True, True): "bottomRight", (True, False): "topRight"}.get(
        (bool(columns), bool(rows)), "bottomLeft"
    )
    split = (f'xSplit="{columns}" ' if columns else "") + (f'ySplit="{rows}" ' if rows else "")
    return (
        f'<pane {split}topLeftCell="{corner}" activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{corner}" sqref="{corner}"/>'
    )


class SheetWriter:
    """Rows of one worksheet, written as they come."""

    def __init__(
        self,
        handle: IO[bytes],
        widths: Sequence[float],
        *,
        freeze_header: bool = True,
        freeze: tuple[int, int] | None = None,
        landscape: bool = False,
    ) -> None:
        """``freeze``: (rows, columns) kept in view (default: the header row, when
        ``freeze_header``). ``landscape``: printed across A4, fitted to the page's width."""
        self._out = handle
        self.name = ""
        self.rows = 0
        self.filter = ""
        self._landscape = landscape
        self._letters = [_letters(j) for j in range(max(len(widths), 1))]
        head = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} ']
        head.append(f"{_REL_NS}>")
        if landscape:
            head.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        head.append('<sheetViews><sheetView workbookViewId="0">')
        head.append(_pane(*(freeze or ((1, 0) if freeze_header else (0, 0)))))
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

    def _letter(self, j: int) -> str:
        while j >= len(self._letters):
            self._letters.append(_letters(len(self._letters)))
        return self._letters[j]

    def styled_row(self, values: Sequence[Any], style: int) -> None:
        """A row whose every cell has ``style``."""
        self.append(values, [style] * len(values))

    def append(
        self,
        values: Sequence[Any],
        styles: Sequence[int] | None = None,
        *,
        height: float | None = None,
    ) -> None:
        """The next row; ``styles``: a style index for each cell (0 for none); ``height`` in
        points (spreadsheets do not grow a row to fit wrapped text they open: they draw
        the lines over the rows below)."""
        self.rows += 1
        n = self.rows
        letters = self._letters
        if len(values) > len(letters):
            self._letter(len(values))
        if styles is None:
            cells = [cell_xml(f"{letters[j]}{n}", v) for j, v in enumerate(values)]
        else:
            cells = [
                cell_xml(f"{letters[j]}{n}", v, s)
                for j, (v, s) in enumerate(zip(values, styles, strict=True))
            ]
        size = f' ht="{height:g}" customHeight="1"' if height else ""
        self._buffer.append(f'<row r="{n}"{size}>' + "".join(cells) + "</row>")
        if len(self._buffer) >= 2000:
            self.flush()

    def auto_filter(self, first_row: int, columns: int, last_row: int) -> None:
        """Filter buttons on ``first_row`` (the header) over the rows to ``last_row``."""
        self.filter = f"A{first_row}:{self._letter(columns - 1)}{max(last_row, first_row)}"

    def flush(self) -> None:
        if self._buffer:
            self._out.write("".join(self._buffer).encode("utf-8"))
            self._buffer.clear()

    def close(self) -> None:
        self._buffer.append("</sheetData>")
        if self.filter:
            self._buffer.append(f'<autoFilter ref="{self.filter}"/>')
        self._buffer.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/>'
        )
        if self._landscape:
            self._buffer.append(
                # A4 (paper size 9): without it a spreadsheet prints on US Letter
                '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            )
        self._buffer.append("</worksheet>")
        self.flush()
        self._out.close()


class Workbook:
    """A workbook streamed into ``handle`` (a seekable binary file)."""

    def __init__(
        self,
        handle: IO[bytes],
        *,
        title: str = "",
        creator: str = "",
        subject: str = "",
        description: str = "",
        created: dt.datetime | None = None,
    ) -> None:
        """``created``: the time the document says it was made (default: now)."""
        self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[tuple[str, str]] = []  # (name, part)
        self._writers: list[SheetWriter] = []
        self._order: list[int] = []
        self._open: IO[bytes] | None = None
        self.styles = Styles()
        self.title, self.creator = title, creator
        self.subject, self.description, self.created = subject, description, created

    def style(self, style: Style) -> int:
        """The index cells of this workbook name ``style`` by."""
        return self.styles.add(style)

    def sheet(
        self,
        name: str,
        widths: Sequence[float],
        *,
        freeze_header: bool = True,
        freeze: tuple[int, int] | None = None,
        landscape: bool = False,
    ) -> SheetWriter:
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
        writer = SheetWriter(
            handle, widths, freeze_header=freeze_header, freeze=freeze, landscape=landscape
        )
        writer.name = name
        self._writers.append(writer)
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
        made = self.created or dt.datetime.now(dt.UTC)
        if made.tzinfo is not None:
            made = made.astimezone(dt.UTC).replace(tzinfo=None)
        when = made.strftime("%Y-%m-%dT%H:%M:%SZ")
        z.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(self.title)}</dc:title>"
            + (f"<dc:subject>{escape(self.subject)}</dc:subject>" if self.subject else "")
            + f"<dc:creator>{escape(self.creator)}</dc:creator>"
            + (
                f"<dc:description>{escape(self.description)}</dc:description>"
                if self.description
                else ""
            )
            + f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
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
            f"</sheets>{self._filter_names(order)}</workbook>",
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
        z.writestr("xl/styles.xml", self.styles.xml())
        z.close()

    def _filter_names(self, order: Sequence[int]) -> str:
        """The hidden name each filtered sheet's range is kept under, as Excel (and openpyxl,
        which wrote the evaluation pack before) write it."""
        names = [
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{position}" hidden="1">'
            f"{escape(_quoted(self._sheets[k][0]))}!{_absolute(self._writers[k].filter)}"
            "</definedName>"
            for position, k in enumerate(order)
            if self._writers[k].filter
        ]
        return f"<definedNames>{''.join(names)}</definedNames>" if names else ""

    def abort(self) -> None:
        """Close the zip without finishing it (the caller discards the file)."""
        with contextlib.suppress(Exception):  # already failing; the file is thrown away
            if self._open is not None:
                self._open.close()
        with contextlib.suppress(Exception):
            self._zip.close()
        self._zip.fp = None  # the caller's file is discarded; never touch it again
