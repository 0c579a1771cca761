"""Messy registers made by LibreOffice itself (.ods, .xls, .xlsx and .csv saved by
``soffice --headless --convert-to``), and the template and the errors copy round-tripped
through it: exact counts of imported and refused rows, and the files left as they were."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from tests.spreadsheets.helpers import headings, snapshot
from vrp_desktop.spreadsheets.importer import import_xlsx
from vrp_desktop.spreadsheets.template import build_template

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

HEADER = [
    "FIRST NAME",
    "last name",
    "Date of Birth",
    "gender",
    " Ethnicity ",
    "Postcode",
    "consent status",
    "Consent Date",
    "Notes",  # not ours: ignored
    "intervention",
    "referral source",
    "Referral Date",
    "start date",
    "end date",
    "exit reason",
    "Exit Detail",
    "Keyworker",  # not ours: ignored
]
D = dt.date


def _row(n, intervention, referral, *, dob="04/03/2012", gender="Female", exit_=None, detail=None):
    """One register row; text dates as typed, and real dates, alternate."""
    start = D(2026, 1, 10) if n % 2 else "10/01/2026"
    end = D(2026, 3, 2) if exit_ else None
    return [
        f"Pat{chr(65 + n)}",
        "Okafor",
        dob if n % 2 == 0 else D(2012, 3, 4),
        gender,
        "black: AFRICAN",
        "b5 4tj",
        "consent given",
        "08/01/2026" if n % 2 == 0 else D(2026, 1, 8),
        "likes football",
        intervention,
        referral,
        "05/01/2026",
        start,
        end,
        exit_,
        detail,
        "Sam",
    ]


GOOD_ROWS = [
    _row(0, "friday football", "Self-referral"),
    _row(1, "Friday Football", "SELF-REFERRAL OR WALK-IN"),
    _row(2, "TRUSTED MENTORS", "self-referral"),
    _row(3, "A&E Navigators", "Hospital emergency department"),
    _row(4, "a&e navigators", "police custody"),
    _row(5, "A&E Navigators", "Police (other)"),
    _row(6, "Detached Team", "Met through detached work"),
    _row(7, "Detached Team", "Self-referral", exit_="Other reason", detail="moved to college"),
    _row(8, "Trusted Mentors", "youth offending team", gender="MALE "),
]
BAD_ROWS = [
    _row(9, "A&E Navigators", "School or college"),  # not on A&E's list
    _row(10, "Trusted Mentors", "Police", dob="31/02/2011"),  # no such date
    _row(11, "Friday Football", "Police", gender="Boy", exit_="Declined support"),  # two problems
    _row(12, "Detached Team", "Police", exit_="Other reason"),  # Other needs its detail
]


def _messy_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Register 2025-26 (export)"
    sheet.append(["Youth project register, exported from our old system"])
    sheet.merge_cells("A1:H1")
    sheet.append(["About the young person"] + [None] * 8 + ["Their programme"])
    sheet.merge_cells("A2:I2")
    sheet.merge_cells("J2:Q2")
    sheet.append(HEADER)
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], None, *GOOD_ROWS[2:6], ["  "] * 3, *GOOD_ROWS[6:]]
    rows += [None, *BAD_ROWS, None, None]
    for row in rows:
        sheet.append(row if row is not None else [])
    for line in sheet.iter_rows(min_row=4):
        for cell in line:
            if isinstance(cell.value, dt.date):
                cell.number_format = "dd/mm/yyyy"
    wb.create_sheet("Notes").append(["nothing here to import"])
    wb.save(path)
    return path


def convert(sources: list[Path], target: str, out: Path) -> list[Path]:
    """Save ``sources`` as ``target`` with LibreOffice (one run, a private profile)."""
    out.mkdir(exist_ok=True)
    profile = out / ".lo-profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
        timeout=240,
        env={**os.environ, "HOME": str(out)},
    )
    ext = target.split(":")[0]
    made = [out / f"{s.stem}.{ext}" for s in sources]
    assert all(p.is_file() for p in made), list(out.iterdir())
    return made


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("src")
    messy = _messy_workbook(src / "messy.xlsx")
    template = src / "template.xlsx"
    build_template(interventions=["Trusted Mentors", "Friday Football"]).save(template)
    found: dict[str, Path] = {}
    for target, key in (("ods", "ods"), ("xls", "xls"), ("xlsx", "xlsx")):
        out = tmp_path_factory.mktemp(key)
        found[f"messy.{key}"], found[f"template.{key}"] = convert([messy, template], target, out)
    out = tmp_path_factory.mktemp("csv")
    (found["messy.csv"],) = convert([messy], "csv:Text - txt - csv (StarCalc):44,34,76", out)
    return found


@pytest.mark.parametrize("kind", ["ods", "xls", "xlsx", "csv"])
def test_a_messy_register_saved_by_libreoffice(workspace, made, kind):
    path = made[f"messy.{kind}"]
    raw, before = path.read_bytes(), snapshot(workspace)
    result = import_xlsx(workspace, path)
    assert path.read_bytes() == raw
    assert result.rows_read == len(GOOD_ROWS) + len(BAD_ROWS)
    assert result.good_rows == 9, [b.message() for b in result.bad]
    assert [b.row for b in result.bad] == [16, 17, 18, 19]
    reasons = {b.row: " ".join(b.reasons) for b in result.bad}
    assert "not allowed for 'A&E Navigators'" in reasons[16]
    assert "Date of birth is not a date" in reasons[17]
    assert "Gender 'Boy'" in reasons[18] and "Declined support" in reasons[18]
    assert "Exit detail" in reasons[19]
    assert "Notes" in result.ignored_columns and "Keyworker" in result.ignored_columns
    assert result.imported["participants"] == 9 and result.imported["enrolments"] == 9
    after = snapshot(workspace)
    assert after["participant"] - before["participant"] == 9
    with workspace.engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT p.date_of_birth, p.gender, p.ethnicity, e.start_date, e.referral_source,"
                " e.exit_reason FROM participant p JOIN enrolment e ON e.participant_id = p.id"
            )
        ).all()
    assert {r[0] for r in got} == {"2012-03-04"} and {r[3] for r in got} == {"2026-01-10"}
    assert {r[2] for r in got} == {"black_african"}
    assert sorted(r[1] for r in got).count("male") == 1
    sources = ["self"] * 4 + ["hospital_ed", "custody", "police", "detached_contact"]
    assert sorted(r[4] for r in got) == sorted([*sources, "youth_offending_team"])
    # the errors copy, saved again by LibreOffice, comes back with the same four rows refused,
    # its blank rows ignored and the good rows now changing nothing
    copy = convert([result.errors_copy], "ods", result.errors_copy.parent / f"lo-{kind}")[0]
    again = import_xlsx(workspace, copy, dry_run=True)
    assert len(again.bad) == 4 and again.count("unchanged") == 9
    assert snapshot(workspace) == after


@pytest.mark.parametrize("kind", ["ods", "xlsx"])
def test_the_template_round_trips_through_libreoffice(workspace, made, kind):
    path = made[f"template.{kind}"]
    if kind == "xlsx":  # the drop-downs survive LibreOffice
        register = openpyxl.load_workbook(path)["Register"]
        kinds = {v.type for v in register.data_validations.dataValidation}
        assert kinds == {"list"} and len(register.data_validations.dataValidation) >= 6
        assert register["A1"].value == "First name *"
    result = import_xlsx(workspace, path, dry_run=True)
    assert result.sheet == "Register" and result.rows_read == 0 and result.bad == []


def test_sessions_and_registers_saved_by_libreoffice(workspace, tmp_path):
    from tests.spreadsheets.helpers import person

    wb = build_template(interventions=["Trusted Mentors"])
    people = [person(0), person(1)]
    heads = {name: headings(wb[name]) for name in ("Register", "Sessions", "Attendance")}

    def put(sheet, i, row):
        for key, value in row.items():
            wb[sheet].cell(i, heads[sheet].index(key) + 1, value)

    for i, row in enumerate(people, start=2):
        put("Register", i, row)
    put(
        "Sessions",
        2,
        {
            "Session": "S1",
            "Intervention": "trusted mentors",
            "Date": D(2026, 1, 20),
            "Start time": "18:00",
            "Duration (minutes)": 90,
            "Session type": "group",
            "Mode": "In person",
            "Location type": "community centre",
            "Activities": "Goal setting",
        },
    )
    for i, row in enumerate(people, start=2):
        who = {k: row[k] for k in ("First name", "Last name", "Date of birth")}
        put("Attendance", i, {"Session": "S1", **who, "Attendance": "Attended"})
    src = tmp_path / "sessions.xlsx"
    wb.save(src)
    (ods,) = convert([src], "ods", tmp_path / "lo")
    raw = ods.read_bytes()
    result = import_xlsx(workspace, ods)
    assert result.bad == [], [b.message() for b in result.bad]
    assert ods.read_bytes() == raw
    counts = {k: result.imported[k] for k in ("participants", "sessions", "attendances")}
    assert counts == {"participants": 2, "sessions": 1, "attendances": 2}
    with workspace.engine.connect() as conn:
        starts = conn.execute(text("SELECT starts_at, duration_minutes FROM session")).one()
    assert tuple(starts) == ("2026-01-20 18:00:00.000000", 90)
