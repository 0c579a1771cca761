"""The register copy the return reads (``attendance_by_start``, keyed by session start, with each
row's session intervention, status, type and length) equals a recomputation from attendance and
session after every kind of write: the session services (log, change of register and status, a
moved start time, a changed session, delete), the bulk path the demo and the bench use,
spreadsheet import of sessions and registers, and erasure."""

from __future__ import annotations

import datetime as dt

import openpyxl  # noqa: F401  (the template is a real workbook)
import pytest
from sqlalchemy import text

from tests.spreadsheets.helpers import person
from vrp_desktop.ids import uuid7
from vrp_desktop.services import bulk, demo, enrolments, participants, sessions
from vrp_desktop.spreadsheets.importer import import_xlsx

KEPT = (
    "SELECT starts_at, session_id, participant_id, status, "
    "intervention_id, session_status, session_type, duration_minutes FROM attendance_by_start"
)
RECOMPUTED = (
    "SELECT s.starts_at, a.session_id, a.participant_id, a.status, "
    "s.intervention_id, s.status, s.session_type, s.duration_minutes "
    "FROM attendance AS a JOIN session AS s ON s.id = a.session_id"
)


def _same(ws) -> int:
    """Assert the kept copy equals the recomputation; returns how many rows it holds."""
    with ws.engine.connect() as conn:
        kept = sorted(tuple(r) for r in conn.execute(text(KEPT)))
        want = sorted(tuple(r) for r in conn.execute(text(RECOMPUTED)))
    assert kept == want
    return len(kept)


GROUP = {
    "duration_minutes": 90,
    "session_type": "group",
    "mode": "in_person",
    "location_type": "sports_hall",
    "activities": ["football"],
}


@pytest.fixture
def people(workspace, interventions_by_framework):
    iid = interventions_by_framework["sports_diversion"]["id"]
    out = []
    for first in ("Ava", "Ben", "Cal"):
        p = participants.create_participant(
            workspace,
            {
                "first_name": first,
                "last_name": "Kept",
                "date_of_birth": "2010-06-01",
                "gender": "female",
                "ethnicity": "white_british",
                "consent_status": "given",
                "consent_date": "2025-09-01",
            },
        )
        enrolments.enrol(
            workspace,
            p["id"],
            iid,
            {"referral_source": "self", "referral_date": "2025-09-01", "start_date": "2025-09-01"},
        )
        out.append(p)
    return iid, out


def test_the_services_keep_it(workspace, people):
    iid, (ava, ben, cal) = people
    s = sessions.log_session(
        workspace,
        iid,
        {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)},
        [ava["id"], {"participant_id": ben["id"], "status": "absent"}],
    )
    assert _same(workspace) == 2
    # a status changes, one person leaves the register, one joins
    sessions.update_session(
        workspace,
        s["id"],
        {},
        [{"participant_id": ben["id"], "status": "late"}, cal["id"]],
    )
    assert _same(workspace) == 2
    with workspace.engine.connect() as conn:
        statuses = dict(
            conn.execute(text("SELECT participant_id, status FROM attendance_by_start")).all()
        )
    assert statuses == {ben["id"]: "late", cal["id"]: "attended"}
    # the session moves to another quarter: its register moves with it
    sessions.update_session(workspace, s["id"], {"starts_at": dt.datetime(2026, 1, 9, 17, 30)})
    assert _same(workspace) == 2
    with workspace.engine.connect() as conn:
        starts = set(conn.execute(text("SELECT starts_at FROM attendance_by_start")).scalars())
    assert starts == {"2026-01-09 17:30:00.000000"}
    other = sessions.log_session(
        workspace, iid, {**GROUP, "starts_at": dt.datetime(2025, 12, 5, 18, 0)}, [ava["id"]]
    )
    assert _same(workspace) == 3
    sessions.delete_session(workspace, s["id"], reason="logged twice")
    assert _same(workspace) == 1
    # erasure deletes the person's register rows
    participants.erase_participant(
        workspace, ava["id"], confirm=ava["reference"], reason="asked to be forgotten"
    )
    assert _same(workspace) == 0
    assert sessions.get_session(workspace, other["id"])["attendees"] == []


def test_a_changed_session_changes_its_rows(workspace, people, interventions_by_framework):
    """What the return reads of a session (delivered or not, type, length, intervention) is
    copied onto its register rows again whenever it changes, by the services or raw SQL."""
    iid, (ava, ben, _cal) = people
    s = sessions.log_session(
        workspace,
        iid,
        {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)},
        [ava["id"], {"participant_id": ben["id"], "status": "absent"}],
    )
    sessions.update_session(workspace, s["id"], {"duration_minutes": 45})
    assert _same(workspace) == 2
    sessions.update_session(workspace, s["id"], {"status": "cancelled"}, reason="rained off")
    assert _same(workspace) == 2
    with workspace.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT DISTINCT session_status, duration_minutes FROM attendance_by_start")
        ).all()
    assert kept == [("cancelled", 45)]
    other = interventions_by_framework["mentoring"]["id"]
    for sql, values in (
        ("UPDATE session SET session_type = 'one_to_one' WHERE id = :s", {}),
        ("UPDATE session SET intervention_id = :i WHERE id = :s", {"i": other}),
        ("UPDATE session SET duration_minutes = NULL, status = 'delivered' WHERE id = :s", {}),
    ):
        with workspace.engine.begin() as conn:
            conn.execute(text(sql), {"s": s["id"], **values})
        assert _same(workspace) == 2
    with workspace.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT DISTINCT intervention_id, session_type FROM attendance_by_start")
        ).all()
    assert kept == [(other, "one_to_one")]


def test_raw_sql_and_cascades_keep_it(workspace, people):
    """The triggers hold for writers that bypass the services, a cascade included."""
    iid, (ava, ben, _cal) = people
    s = sessions.log_session(
        workspace, iid, {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)}, [ava["id"]]
    )
    with workspace.engine.begin() as conn:
        conn.execute(
            text("UPDATE attendance SET status = 'absent' WHERE session_id = :s"), {"s": s["id"]}
        )
    assert _same(workspace) == 1
    with workspace.engine.begin() as conn:
        conn.execute(
            text("UPDATE attendance SET participant_id = :p WHERE session_id = :s"),
            {"p": ben["id"], "s": s["id"]},
        )
    assert _same(workspace) == 1
    with workspace.engine.begin() as conn:
        conn.execute(text("DELETE FROM session WHERE id = :s"), {"s": s["id"]})  # cascades
    assert _same(workspace) == 0


def test_the_bulk_path_keeps_it(workspace, people):
    iid, (ava, ben, cal) = people
    rows, regs = [], []
    for day in range(1, 21):
        sid = uuid7()
        rows.append(
            {
                "id": sid,
                "intervention_id": iid,
                "starts_at": dt.datetime(2025, 10, day, 18, 0),
                "status": "delivered",
                "staff": ["b"],
                "notes": None,
                **GROUP,
            }
        )
        regs += [
            {"id": uuid7(), "session_id": sid, "participant_id": p["id"], "status": status}
            for p, status in ((ava, "attended"), (ben, "absent"), (cal, "late"))[: 1 + day % 3]
        ]
    bulk.bulk_insert(workspace, sessions=rows, attendances=regs, action="test.bulk")
    assert _same(workspace) == len(regs) > 20


def test_the_demo_keeps_it(workspace):
    demo.generate(workspace, participants=60, sessions=300, seed=3)
    assert _same(workspace) > 300


def test_spreadsheet_import_keeps_it(workspace, tmp_path):
    from tests.spreadsheets.test_migration import _sheet_rows
    from vrp_desktop.spreadsheets.template import build_template

    p0, p1 = person(0), person(1)
    wb = build_template()
    _sheet_rows(wb["Register"], [], [p0, p1])
    session = {
        "Intervention": "Trusted Mentors",
        "Start time": "18:00",
        "Duration (minutes)": 60,
        "Session type": "Group",
        "Mode": "in person",
        "Location type": "Community centre",
        "Activities": "Goal setting",
    }
    _sheet_rows(
        wb["Sessions"],
        ["Session", "Date"],
        [
            {"Session": "S1", "Date": dt.date(2026, 1, 15), **session},
            {"Session": "S2", "Date": dt.date(2026, 1, 22), **session},
        ],
    )
    who = [{k: p[k] for k in ("First name", "Last name", "Date of birth")} for p in (p0, p1)]
    _sheet_rows(
        wb["Attendance"],
        ["Session"],
        [
            {"Session": "S1", **who[0], "Attendance": "Attended"},
            {"Session": "S1", **who[1], "Attendance": "absent"},
            {"Session": "S2", **who[0], "Attendance": "Arrived late"},
        ],
    )
    path = tmp_path / "sessions.xlsx"
    wb.save(path)
    done = import_xlsx(workspace, path)
    assert done.imported["attendances"] == 3, [b.reasons for b in done.bad]
    assert _same(workspace) == 3
