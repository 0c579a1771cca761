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
