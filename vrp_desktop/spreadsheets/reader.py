"""Reading a workbook's sheets row by row, and telling a person clearly when a file is not a
workbook we can read (not a spreadsheet at all, damaged, or password-protected).

.xlsx, .ods (OpenDocument) and old .xls workbooks are read by calamine; CSV files by
``csvfile``. The kind is told from the file's bytes, not its name.

Two engines give the same rows: python-calamine (Rust; the default, measured several times
faster on a 50,000-row register, see ``bench/bench_returns.py``) and openpyxl's read-only
mode (pure Python; the fallback when calamine is not installed). Blank cells are ``None``,
text keeps its spaces (the importer trims), dates come back as ``date``/``datetime``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vrp_desktop.errors import VrpError

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
#: a register of 50,000 rows unpacks to ~60 MB of XML; far beyond this is a zip bomb
_MAX_UNPACKED = 1 << 30
_MAX_RATIO = 250
#: calamine builds a sheet as one dense grid from its first to its last filled cell (32 bytes
#: a cell), so two filled cells at A1 and XFD1048576 ask for 512 GiB and abort the process;
#: a register of 50,000 rows by 40 columns is 2 million cells
_MAX_GRID = 20_000_000
_FILLED_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(?<!/)>')
_DAMAGED = (
    "{name} is damaged or is not an Excel workbook (it may be a Word or OpenDocument file, or "
    "an incomplete download). Open it in Excel or LibreOffice, save it as .xlsx and try again. "
    "Nothing was imported."
)


_DAMAGED_ODS = (
    "{name} is an OpenDocument spreadsheet that is damaged or incomplete, so it cannot be read. "
    "Open it in LibreOffice, save it again (as .ods or .xlsx) and try again. Nothing was "
    "imported."
)


class SpreadsheetError(VrpError):
    """The file cannot be read as a workbook; nothing was imported."""


_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def check_file(path: Path) -> str:
    """Refuse, with a reason and a fix, anything that is not a workbook or CSV we can read;
    otherwise say which it is: "xlsx", "ods", "xls" or "csv" (by its bytes, not its name)."""
    path = Path(path)
    if not path.is_file():
        raise SpreadsheetError(f"There is no file at {path}. Check the name and folder.")
    with path.open("rb") as handle:
        head = handle.read(8)
        if head == _OLE_MAGIC:
            handle.seek(0)
            body = handle.read(1 << 20)
            if "EncryptedPackage".encode("utf-16-le") in body:
                raise SpreadsheetError(
                    f"{path.name} is password-protected, so it cannot be read. Open it in "
                    "Excel or LibreOffice, remove the password (Excel: File > Info > Protect "
                    "Workbook > Encrypt with Password, then clear it), save it, and import "
                    "it again. Nothing was imported."
                )
            return "xls"
    if not head.startswith(_ZIP_MAGIC) or not zipfile.is_zipfile(path):
        if path.suffix.lower() in _TEXT_SUFFIXES:
            return "csv"
        raise SpreadsheetError(
            f"{path.name} is not a spreadsheet VRP Desktop can read. Save it from Excel or "
            "LibreOffice as an Excel Workbook (.xlsx), an OpenDocument spreadsheet (.ods) or a "
            "CSV file named .csv, or start from the template ('vrp import template'). It is "
            "not an Excel workbook (.xlsx) as its name says. Nothing was imported."
            if path.suffix.lower() == ".xlsx"
            else f"{path.name} is not a spreadsheet VRP Desktop can read (.xlsx, .ods, .xls or "
            ".csv). Save it from Excel or LibreOffice as one of those, or start from the "
            "template ('vrp import template'). Nothing was imported."
        )
    ods = False
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            unpacked = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            if unpacked > _MAX_UNPACKED or unpacked > _MAX_RATIO * max(packed, 1 << 20):
                raise SpreadsheetError(
                    f"{path.name} unpacks to far more data than a register holds, so it was not "
                    "opened (it may be damaged or built to fill the disk). Save the register "
                    "again from Excel or LibreOffice as .xlsx. Nothing was imported."
                )
            ods = "mimetype" in names and archive.read("mimetype").strip() == _ODS_MIME
            bad = archive.testzip()
    except SpreadsheetError:
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ):
        names, bad = set(), "?"
    if ods:
        if bad is not None or "content.xml" not in names:
            raise SpreadsheetError(_DAMAGED_ODS.format(name=path.name))
        return "ods"
    if bad is not None or "xl/workbook.xml" not in names:
        raise SpreadsheetError(_DAMAGED.format(name=path.name))
    _check_extent(path, sorted(n for n in names if n.startswith("xl/worksheets/")))
    return "xlsx"


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_extent(path: Path, sheets: list[str]) -> None:
    """Refuse a sheet whose filled cells span a grid too large to read (see ``_MAX_GRID``)."""
    with zipfile.ZipFile(path) as archive:
        for member in sheets:
            rows = cols = 0
            tail = b""
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    data = tail + chunk
                    found = _FILLED_CELL.findall(data)
                    if found:
                        letters, numbers = zip(*found, strict=True)
                        cols = max(cols, *map(_column, set(letters)))
                        rows = max(rows, *map(int, numbers))
                    tail = data[-64:]
            if rows * cols > _MAX_GRID:
                raise SpreadsheetError(
                    f"{path.name} has a sheet whose cells reach row {rows} and column {cols}, "
                    "far beyond any register, so it was not opened. Delete the rows and "
                    "columns below and to the right of the data (or copy just the data into "
                    "a new workbook), save it as .xlsx and try again. Nothing was imported."
                )


def _guarded(path: Path, rows: Iterator[tuple[int, list[Any]]], kind: str = "xlsx"):
    """Rows as read; an engine's error on a damaged sheet becomes a clear message."""
    message = _DAMAGED_ODS if kind == "ods" else _DAMAGED
    try:
        yield from rows
    except (SpreadsheetError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # engines raise many kinds for a damaged sheet, and
        # calamine's Rust panics (e.g. a date out of range) derive from BaseException
        raise SpreadsheetError(message.format(name=Path(path).name)) from None


@dataclasses.dataclass
class SheetRows:
    """One sheet's rows: (1-based row number, values)."""

    name: str
    rows: Iterator[tuple[int, list[Any]]]


class Reader:
    """Opens a workbook once; lists sheets and streams a sheet's rows."""

    engine = "base"

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OpenpyxlReader(Reader):
    engine = "openpyxl"

    def __init__(self, path: Path) -> None:
        import openpyxl

        self.path = Path(path)
        try:
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise SpreadsheetError(
                f"{Path(path).name} could not be read as a workbook ({type(exc).__name__}). "
                "Open it in Excel or LibreOffice, save it as .xlsx and try again. Nothing was "
                "imported."
            ) from None

    def sheet_names(self) -> list[str]:
        return list(self._wb.sheetnames)

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        return _guarded(self.path, self._rows(name))

    def _rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        sheet = self._wb[name]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_clean(v) for v in values]

    def close(self) -> None:
        self._wb.close()


class CalamineReader(Reader):
    engine = "calamine"

    def __init__(self, path: Path, kind: str = "xlsx") -> None:
        import python_calamine

        self.path = Path(path)
        self.kind = kind
        try:
            self._wb = python_calamine.CalamineWorkbook.from_path(str(path))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a Rust panic is a BaseException
            if kind == "ods":
                raise SpreadsheetError(_DAMAGED_ODS.format(name=self.path.name)) from None
            raise SpreadsheetError(
                f"{Path(path).name} could not be read as a workbook ({type(exc).__name__}). "
                "Open it in Excel or LibreOffice, save it as .xlsx and try again. Nothing was "
                "imported."
            ) from None

    def sheet_names(self) -> list[str]:
        names = list(self._wb.sheet_names)
        if not names and self.kind == "ods":
            raise SpreadsheetError(_DAMAGED_ODS.format(name=self.path.name))
        return names

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        return _guarded(self.path, self._rows(name), self.kind)

    def _rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        sheet = self._wb.get_sheet_by_name(name)
        start = sheet.start or (0, 0)
        pad = [None] * start[1]
        for offset, values in enumerate(sheet.iter_rows()):
            yield start[0] + offset + 1, pad + [_clean(v) for v in values]

    def close(self) -> None:
        self._wb.close()


def _clean(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dt.time):
        return None if value == dt.time(0) else value
    return value


def open_reader(path: Path, engine: str | None = None) -> Reader:
    """Check the file, then open it: a CSV with the CSV reader; a workbook with ``engine``
    ("calamine" or "openpyxl"; default: calamine, the faster, which alone reads .ods and .xls)."""
    kind = check_file(path)
    if kind == "csv":
        from vrp_desktop.spreadsheets.csvfile import CsvReader

        return CsvReader(path)
    if engine is None or kind != "xlsx":
        try:
            import python_calamine  # noqa: F401
        except ImportError:
            if kind != "xlsx":
                raise SpreadsheetError(
                    f"{Path(path).name} is an .{kind} file, which this installation cannot "
                    "read. Save it as .xlsx and import that. Nothing was imported."
                ) from None
            engine = "openpyxl"
        else:
            engine = "calamine"
    if engine == "calamine":
        return CalamineReader(path, kind)
    if engine == "openpyxl":
        return OpenpyxlReader(path)
    raise ValueError(f"unknown reader engine {engine!r}")
