"""Imported sessions are checked for double-booking by the session form's own rule (issue 11):
a session of the same intervention at an overlapping time with the same people, already in the
workspace or earlier in the same file, is refused in plain words, in the dry run too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.spreadsheets.helpers import person, snapshot
from tests.spreadsheets.test_migration import _sheet_rows
from vrp_desktop.spreadsheets.importer import import_xlsx
from vrp_desktop.spreadsheets.template import build_template

GROUP = {
    "Intervention": "Trusted Mentors",
    "Duration (minutes)": 60,
    "Session type": "Group",
    "Mode": "in person",
    "Location type": "Community centre",
    "Activities": "Goal setting",
}
P0, P1 = person(0), person(1, **{"Start date": dt.date(2026, 1, 14)})
WHO0 = {k: P0[k] for k in ("First name", "Last name", "Date of birth")}
WHO1 = {k: P1[k] for k in ("First name", "Last name", "Date of birth")}


def _workbook(path, people, sessions, attendance):
    wb = build_template()
    _sheet_rows(wb["Register"], [], people)
    _sheet_rows(wb["Sessions"], ["Session", "Date"], sessions)
    _sheet_rows(wb["Attendance"], ["Session"], attendance)
    wb.save(path)
    return path


def _session(label: str, day: int, start: str, **more) -> dict:
    return {"Session": label, "Date": dt.date(2026, 1, day), "Start time": start, **GROUP, **more}


def test_an_overlapping_session_with_the_same_people_is_refused_per_row(workspace, tmp_path):
    first = _workbook(
        tmp_path / "first.xlsx",
        [P0, P1],
        [_session("S1", 15, "18:00")],
        [{"Session": "S1", **WHO0, "Attendance": "Attended"}],
    )
    assert import_xlsx(workspace, first).imported["sessions"] == 1

    later = _workbook(
        tmp_path / "later.xlsx",
        [],
        [
            _session("T1", 15, "18:30"),  # row 2: overlaps S1, same young person: refused
            _session("T2", 15, "18:30"),  # row 3: overlaps S1, someone else: a real session
            _session("T3", 16, "18:00"),  # row 4: new
            _session("T4", 16, "18:15"),  # row 5: overlaps T3 in this file, same person
            _session("T5", 15, "18:00"),  # row 6: S1 itself again: changes nothing
            _session(
                "T6", 16, "18:30", Status="Cancelled", Notes="Coach ill"
            ),  # row 7: cancelled never clashes
        ],
        [
            {"Session": "T1", **WHO0, "Attendance": "Attended"},  # row 2
            {"Session": "T2", **WHO1, "Attendance": "Attended"},  # row 3
            {"Session": "T2", **WHO0, "Attendance": "Absent"},  # row 4: absent: not shared
            {"Session": "T3", **WHO1, "Attendance": "Attended"},  # row 5
            {"Session": "T4", **WHO1, "Attendance": "Arrived late"},  # row 6
            {"Session": "T6", **WHO1, "Attendance": "Absent"},  # row 7
        ],
    )
    before, raw = snapshot(workspace), later.read_bytes()
    preview = import_xlsx(workspace, later, dry_run=True)
    assert snapshot(workspace) == before and later.read_bytes() == raw
    bad = {(b.kind, b.row): " ".join(b.reasons) for b in preview.bad}
    assert sorted(bad) == [
        ("Attendance", 2),
        ("Attendance", 6),
        ("Sessions", 2),
        ("Sessions", 5),
    ], bad
    assert (
        "This looks like a session already in VRP Desktop: Thu 15/01/2026 18:00 for 60 "
        "minutes, same intervention, overlapping this one's time, with 1 of the same young "
        "person." in bad[("Sessions", 2)]
    ), bad[("Sessions", 2)]
    assert "log this one in the window and say why" in bad[("Sessions", 2)]
    assert (
        "This looks like the session on Sessions row 4: same intervention, overlapping time, "
        "with 1 of the same young person." in bad[("Sessions", 5)]
    )
    assert "Sessions row 2" in bad[("Attendance", 2)]
    assert "Sessions row 5" in bad[("Attendance", 6)]
    assert "intervention_id" not in " ".join(bad.values())  # never a raw field name
    assert preview.count("unchanged") == 1

    done = import_xlsx(workspace, later)
    assert done.imported["sessions"] == 3  # T2, T3 and the cancelled T6
    with workspace.engine.connect() as conn:
        starts = sorted(str(s)[:16] for (s,) in conn.execute(text("SELECT starts_at FROM session")))
    assert starts == [
        "2026-01-15 18:00",
        "2026-01-15 18:30",
        "2026-01-16 18:00",
        "2026-01-16 18:30",
    ]
