"""Hostile spreadsheets: every refusal says what is wrong and what to do (red-team findings)."""

from __future__ import annotations

import hashlib

import pytest

from vrp_desktop.spreadsheets.reader import SpreadsheetError, open_reader


def test_a_csv_cell_beyond_the_field_limit_is_named_as_such(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("first_name,last_name\n" + "x" * 200_000 + ",Smith\n")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SpreadsheetError) as caught, open_reader(path) as reader:
        for name in reader.sheet_names():
            list(reader.rows(name))
    message = str(caught.value)
    assert "quote is not closed" not in message
    assert "more than" in message and "characters" in message and "Nothing was imported" in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_tiny_workbook_with_a_cell_at_the_far_corner_is_refused(tmp_path):
    """Two filled cells, A1 and XFD1048576: calamine would ask for 512 GiB and abort."""
    import openpyxl

    path = tmp_path / "register.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Register"
    sheet["A1"], sheet["B1"], sheet["XFD1048576"] = "first_name", "last_name", "x"
    book.save(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SpreadsheetError) as caught:
        open_reader(path)
    message = str(caught.value)
    assert "row 1048576" in message and "Delete the rows" in message
    assert "Nothing was imported" in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
