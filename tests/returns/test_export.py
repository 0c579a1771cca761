"""The record-level export: pseudonymised unless identifiers are asked for by a manager."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.returns.conftest import libreoffice_csv, soffice
from vrp_desktop.cli import main
from vrp_desktop.errors import PermissionDenied
from vrp_desktop.returns.export import export_records
from vrp_desktop.workspace import SignedInUser

IDENTITY = {
    "First name",
    "Last name",
    "Preferred name",
    "Date of birth",
    "Address",
    "Phone",
    "Email",
    "Notes",
    "Exit detail",
}


def _count(ws, table):
    with ws.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_pseudonymised_export_matches_the_store(demo_ws, tmp_path):
    path = tmp_path / "records.xlsx"
    counts = export_records(demo_ws, path)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == [
        "About",
        "Participants",
        "Enrolments",
        "Sessions",
        "Attendances",
        "Questionnaires",
    ]
    for sheet, table in (
        ("Participants", "participant"),
        ("Sessions", "session"),
        ("Attendances", "attendance"),
        ("Questionnaires", "outcome_response"),
    ):
        rows = list(wb[sheet].iter_rows(values_only=True))
        assert len(rows) - 1 == counts[sheet] == _count(demo_ws, table)
        assert not IDENTITY & set(rows[0])
    sessions = list(wb["Sessions"].iter_rows(values_only=True))
    header = sessions[0]
    assert isinstance(sessions[1][header.index("Starts at")], __import__("datetime").datetime)
    assert isinstance(sessions[1][header.index("Duration (minutes)")], int)
    wb.close()
    with demo_ws.engine.connect() as conn:
        last = conn.execute(
            text("SELECT action, after FROM audit_event ORDER BY seq DESC LIMIT 1")
        ).one()
    assert last.action == "records.export" and '"with_identifiers": false' in last.after


def test_identifiers_need_the_flag_and_the_permission(demo_ws, tmp_path):
    path = tmp_path / "ids.xlsx"
    export_records(demo_ws, path, with_identifiers=True)
    header = next(
        openpyxl.load_workbook(path, read_only=True)["Participants"].iter_rows(values_only=True)
    )
    assert {"First name", "Date of birth", "Email"} <= set(header)
    original = demo_ws.user
    demo_ws.user = SignedInUser("w", "Worker", "worker")
    try:
        with pytest.raises(PermissionDenied):
            export_records(demo_ws, tmp_path / "no.xlsx", with_identifiers=True)
    finally:
        demo_ws.user = original
    assert not (tmp_path / "no.xlsx").exists()


def test_cli_export_and_return(workspace, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    folder = str(workspace.folder)
    assert main(["export", folder, "--out", str(tmp_path / "r.xlsx")]) == 0
    assert "pseudonymised" in capsys.readouterr().out
    assert (
        main(
            [
                "return",
                "export",
                folder,
                "--quarter",
                "2026-27 Q2",
                "--out",
                str(tmp_path / "q.xlsx"),
            ]
        )
        == 0
    )
    assert "Quarterly return 2026-27 Q2 written" in capsys.readouterr().out
    assert (
        main(
            ["return", "export", folder, "--quarter", "2026Q3", "--out", str(tmp_path / "bad.xlsx")]
        )
        == 1
    )
    assert "2026-27 Q3" in capsys.readouterr().err
    assert not (tmp_path / "bad.xlsx").exists()
    assert (
        main(
            [
                "return",
                "export",
                folder,
                "--quarter",
                "2026-27 Q2",
                "--threshold",
                "0",
                "--out",
                str(tmp_path / "bad.xlsx"),
            ]
        )
        == 1
    )
    assert "threshold" in capsys.readouterr().err


@pytest.mark.skipif(
    soffice() is None, reason="LibreOffice (Debian libreoffice-calc-nogui) is not installed"
)
def test_libreoffice_opens_the_export_and_template(demo_ws, tmp_path):
    from vrp_desktop.spreadsheets.template import write_template

    export_records(demo_ws, tmp_path / "records.xlsx")
    assert "Pseudonym" in libreoffice_csv(tmp_path / "records.xlsx", tmp_path / "a")
    write_template(tmp_path / "template.xlsx")
    assert "importing a register" in libreoffice_csv(tmp_path / "template.xlsx", tmp_path / "b")


def test_a_table_longer_than_a_sheet_continues_on_the_next_and_the_cover_says_so(tmp_path):
    from vrp_desktop.returns.export import _cover, write_rows

    rows = [(f"s{k}", k, dt.date(2026, 1, 1) + dt.timedelta(days=k % 300)) for k in range(25)]
    path = tmp_path / "split.xlsx"
    counts = write_rows(
        path,
        [
            ("Attendances", ["Session id", "N", "On"], iter(rows), len(rows)),
            ("Empty", ["Nothing"], iter(()), 0),
        ],
        title="Record-level export",
        cover=_cover("Record-level export", False),
        rows_per_sheet=10,
    )
    assert counts == {"Attendances": 25, "Empty": 0}
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["About", "Attendances", "Attendances (2)", "Attendances (3)", "Empty"]
    got = []
    for name in wb.sheetnames[1:4]:
        sheet = list(wb[name].iter_rows(values_only=True))
        assert sheet[0] == ("Session id", "N", "On") and len(sheet) <= 11
        got += [(a, b, c.date()) for a, b, c in sheet[1:]]
    assert got == rows
    about = [r for r in wb["About"].iter_rows(values_only=True)]
    split = next(r for r in about if r and r[0] and r[0].startswith("Attendances"))
    assert split[:2] == ("Attendances, Attendances (2), Attendances (3)", 25)
    assert "continues on Attendances (2), Attendances (3)" in split[2]
    assert list(wb["Empty"].iter_rows(values_only=True)) == [("Nothing",)]
    wb.close()
    # every real sheet stays below the limit Excel and LibreOffice share
    from vrp_desktop.returns import xlsxstream

    assert xlsxstream.MAX_ROWS == 1_048_576


def test_sheet_names_from_a_file_name_are_made_valid(tmp_path):
    from vrp_desktop.returns.export import write_rows

    path = tmp_path / "e.xlsx"
    write_rows(
        path,
        [
            ("reg[2025]/26: final? errors", ["A"], iter([("x",)]), 1),
            ("reg[2025]/26: final? errors", ["A"], iter(()), 0),
        ],
        title="t",
    )
    assert openpyxl.load_workbook(path).sheetnames == [
        "reg_2025__26_ final_ errors",
        "reg_2025__26_ final_ errors (2)",
    ]
