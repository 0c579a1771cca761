"""Importing a register: bad rows with reasons, good rows in one step, messy input handled,
and nothing changed whenever a file is refused or the run is a dry run."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.spreadsheets.helpers import (
    GOOD,
    HEADERS,
    filled_template,
    person,
    plain_workbook,
    snapshot,
)
from vrp_desktop.cli import main
from vrp_desktop.spreadsheets.importer import import_xlsx
from vrp_desktop.spreadsheets.reader import SpreadsheetError

ENGINES = ["calamine", "openpyxl"]


def _mixed(tmp_path):
    rows = [
        person(0),
        person(1, **{"Date of birth": "31/02/2011"}),  # not a date
        None,  # blank row
        person(2, Gender="Boy"),  # not in the list
        person(3, **{"Intervention": "Chess Club"}),
        person(4, **{"Start date": dt.date(2026, 1, 1), "Referral date": dt.date(2026, 1, 9)}),
        person(5, **{"End date": dt.date(2026, 6, 1)}),  # end date without exit reason
        person(6),
    ]
    return filled_template(tmp_path / "register.xlsx", rows)


@pytest.mark.parametrize("engine", ENGINES)
def test_dry_run_reports_every_bad_row_and_changes_nothing(workspace, tmp_path, engine):
    path = _mixed(tmp_path)
    before = snapshot(workspace)
    original = path.read_bytes()
    result = import_xlsx(workspace, path, dry_run=True, engine=engine)
    assert snapshot(workspace) == before
    assert path.read_bytes() == original
    assert result.rows_read == 7 and result.good_rows == 2
    reasons = {b.row: " ".join(b.reasons) for b in result.bad}
    assert set(reasons) == {3, 5, 6, 7, 8}
    assert "Date of birth is not a date" in reasons[3]
    assert "Gender 'Boy'" in reasons[5]
    assert "Chess Club" in reasons[6] and "Trusted Mentors" in reasons[6]
    assert "order" in reasons[7].lower() or "referral" in reasons[7].lower()
    assert "Exit reason" in reasons[8] or "left" in reasons[8]
    # no personal data in the reasons
    assert all("Amara" not in r and "Mensah" not in r for r in reasons.values())
    copy = openpyxl.load_workbook(result.errors_copy)
    sheet = copy.worksheets[0]
    assert sheet["A1"].value == "Errors" and sheet["B1"].value == "Row"
    marked = {row[1]: row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert marked[3].startswith("Row 3: Date of birth") and marked[2] is None
    assert [c.value for c in sheet[1]][2:4] == ["First name *", "Last name *"]


@pytest.mark.parametrize("engine", ENGINES)
def test_import_brings_in_good_rows_only_in_one_step(workspace, tmp_path, engine):
    path = _mixed(tmp_path)
    before = snapshot(workspace)
    result = import_xlsx(workspace, path, engine=engine)
    after = snapshot(workspace)
    assert result.imported["participants"] == 2 and result.imported["enrolments"] == 2
    assert after["participant"] == before["participant"] + 2
    assert after["enrolment"] == before["enrolment"] + 2
    assert after["audit_event"] == before["audit_event"] + 1
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.gender, p.ethnicity, p.postcode_district, p.date_of_birth, "
                "e.referral_source, i.name FROM participant p JOIN enrolment e ON "
                "e.participant_id = p.id JOIN intervention i ON i.id = e.intervention_id"
            )
        ).all()
        action = conn.execute(
            text("SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    assert action == "spreadsheet.import"
    assert {tuple(r) for r in rows} == {
        ("female", "black_african", "B5", "2012-03-04", "school", "Trusted Mentors")
    }
    # importing the same file again duplicates nobody: its good rows now change nothing
    again = import_xlsx(workspace, path, engine=engine)
    assert again.imported is None and again.good_rows == 2
    assert again.count("unchanged") == 2 and again.count("new") == 0
    assert snapshot(workspace) == after


@pytest.mark.parametrize("engine", ENGINES)
def test_messy_but_meaningful_input_is_understood(workspace, tmp_path, engine):
    header = [
        "  FIRST NAME ",
        "last name*",
        "Date Of Birth",
        "gender",
        "ETHNICITY",
        "Consent Status",
        "Consent date",
        "Intervention",
        "Referral Source",
        "referral_date",
        "Start Date",
        "Shoe size",
        None,
    ]
    rows = [
        [
            "Jay ",
            " Osei",
            "04/03/2011",
            "MALE ",
            "white: irish",
            "consent GIVEN",
            "8/1/2026",
            "trusted mentors ",
            "police",
            " 05/01/2026 ",
            "10/01/2026",
            9,
            "x",
        ],
        [None] * 13,
        ["   "] * 13,
        [
            "Kim",
            "Reid",
            dt.datetime(2011, 5, 6),
            "female",
            "Irish",
            "not asked yet",
            None,
            "Trusted Mentors",
            "SCHOOL OR COLLEGE",
            dt.date(2026, 1, 2),
            "2026-01-12",
            None,
            None,
        ],
    ]
    path = plain_workbook(
        tmp_path / "messy.xlsx",
        header,
        rows,
        title="My register 2025",
        before=[["Register of young people (merged title)"] + [None] * 12],
        merges=["A1:M1", "L2:M2"],
    )
    result = import_xlsx(workspace, path, engine=engine)
    assert result.bad == [], [b.message() for b in result.bad]
    assert result.sheet == "My register 2025" and result.header_row == 2
    assert "Shoe size" in result.ignored_columns
    assert result.imported["participants"] == 2
    with workspace.engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT gender, ethnicity, consent_status, consent_date, date_of_birth "
                "FROM participant ORDER BY date_of_birth"
            )
        ).all()
    assert [tuple(r) for r in got] == [
        ("male", "white_irish", "given", "2026-01-08", "2011-03-04"),
        ("female", "white_irish", "not_asked", None, "2011-05-06"),
    ]


def _refused(workspace, path, match, engine="calamine"):
    before = snapshot(workspace)
    with pytest.raises(SpreadsheetError, match=match) as info:
        import_xlsx(workspace, path, engine=engine)
    assert "Nothing was imported" in str(info.value)
    assert snapshot(workspace) == before
    return info


def test_a_file_that_is_not_a_workbook(workspace, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_text("First name,Last name\nAmara,Mensah\n", encoding="utf-8")
    _refused(workspace, path, "not an Excel workbook")
    other = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    _refused(workspace, other, "damaged or is not an Excel workbook")


def test_a_password_protected_workbook(workspace, tmp_path):
    msoffcrypto = pytest.importorskip(
        "msoffcrypto", reason="msoffcrypto-tool makes a real encrypted workbook for this test"
    )
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = filled_template(tmp_path / "plain.xlsx", [person(0)])
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as out:
        OOXMLFile(source).encrypt("secret", out)
    assert msoffcrypto.olefile.isOleFile(str(locked))
    for engine in ENGINES:
        _refused(workspace, locked, "password-protected", engine)


def test_missing_required_columns_and_no_register_sheet(workspace, tmp_path):
    path = plain_workbook(
        tmp_path / "short.xlsx",
        ["First name", "Last name", "Gender", "Intervention"],
        [["A", "B", "male", "x"]],
    )
    info = _refused(workspace, path, "has no column for")
    assert "Date of birth" in str(info.value)
    path = plain_workbook(tmp_path / "other.xlsx", ["Shopping", "List"], [["eggs", "milk"]])
    _refused(workspace, path, "No sheet in this workbook")


def test_renamed_template_sheet_is_found(workspace, tmp_path):
    path = filled_template(tmp_path / "r.xlsx", [person(0)], sheet_title="Year 2025-26")
    result = import_xlsx(workspace, path, dry_run=True)
    assert result.sheet == "Year 2025-26" and result.good_rows == 1


def test_cli_dry_run_and_import(workspace, tmp_path, capsys, monkeypatch):
    path = _mixed(tmp_path)
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    folder = str(workspace.folder)
    before = snapshot(workspace)
    assert main(["import", "xlsx", folder, str(path), "--dry-run"]) == 3
    out = capsys.readouterr().out
    assert "Row 3: Date of birth is not a date" in out
    assert "2 rows add records" in out and "Dry run: nothing was changed." in out
    assert snapshot(workspace) == before
    assert main(["import", "xlsx", folder, str(path)]) == 3
    assert "Imported 2 young people and 2 enrolments" in capsys.readouterr().out
    assert main(["import", "xlsx", folder, str(tmp_path / "missing.xlsx")]) == 1
    assert "There is no file" in capsys.readouterr().err


def test_a_worker_may_import(workspace, tmp_path):
    from vrp_desktop.workspace import SignedInUser

    workspace.user = SignedInUser("w", "Worker", "worker")
    path = filled_template(tmp_path / "r.xlsx", [GOOD])
    assert import_xlsx(workspace, path).imported["participants"] == 1
    assert HEADERS[0] == "First name"
