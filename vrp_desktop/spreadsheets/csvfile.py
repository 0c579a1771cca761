"""Reading a CSV register: its text encoding and separator are worked out from the bytes.

Excel on a UK Windows PC saves "CSV" as Windows-1252, "CSV UTF-8" with a byte-order mark, and
"Unicode text" as UTF-16 with tabs; LibreOffice saves UTF-8. Every cell comes back as text (the
importer reads dates typed as text, and works out day/month order across the whole file).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vrp_desktop.spreadsheets.reader import Reader, SpreadsheetError

_MAX_BYTES = 200 << 20
_SEPARATORS = ",;\t|"


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name) for a CSV file's bytes."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(name), name
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _separator(text: str) -> str:
    sample = text[: 64 << 10]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(_SEPARATORS, key=first.count) if first else ","


class CsvReader(Reader):
    """One sheet, named after the file, of text cells (blank = None)."""

    engine = "csv"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        raw = self.path.read_bytes()
        if len(raw) > _MAX_BYTES:
            raise SpreadsheetError(
                f"{self.path.name} is far larger than a register; split it and import the parts. "
                "Nothing was imported."
            )
        if b"\0" in raw[:4096] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise SpreadsheetError(
                f"{self.path.name} is not a text CSV file. Save the register from Excel or "
                "LibreOffice as CSV or .xlsx and try again. Nothing was imported."
            )
        self.text, self.encoding = decode(raw)
        self.separator = _separator(self.text)

    def sheet_names(self) -> list[str]:
        return [self.path.stem]

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.separator)
        try:
            for number, values in enumerate(reader, start=1):
                yield number, [v if v.strip() else None for v in values]
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise SpreadsheetError(
                    f"{self.path.name} has a cell holding more than {csv.field_size_limit()} "
                    "characters, far more than any register cell (often a quote opened and "
                    "never closed, so the rest of the file ran into one cell). Open it in Excel "
                    "or LibreOffice, check that row, save it again and try again. Nothing was "
                    "imported."
                ) from None
            raise SpreadsheetError(
                f"{self.path.name} is not a well-formed CSV file (a quote is not closed). Open "
                "it in Excel or LibreOffice, save it again and try again. Nothing was imported."
            ) from None
