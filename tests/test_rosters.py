"""Group rosters, absences, 'repeat last' in the past only, duplicates and deletion (services)."""

from __future__ import annotations

import datetime as dt

import pytest

from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit, enrolments, participants, sessions
from vrp_desktop.store.models import AuditEvent, Tombstone

FIRST = ["Ava", "Ben", "Cal", "Dee", "Eve", "Fin"]


def _person(ws, first: str, dob: str = "2010-06-01") -> dict:
    return participants.create_participant(
        ws,
        {
            "first_name": first,
            "last_name": "Roster",
            "date_of_birth": dob,
            "gender": "female",
            "ethnicity": "white_british",
            "consent_status": "given",
            "consent_date": "2025-09-01",
        },
    )


def _enrol(ws, pid: str, iid: str, start: str, end: str | None = None) -> dict:
    e = enrolments.enrol(
        ws, pid, iid, {"referral_source": "self", "referral_date": start, "start_date": start}
    )
    if end:
        e = enrolments.exit_enrolment(ws, e["id"], end_date=end, exit_reason="completed")
    return e


GROUP = {
    "duration_minutes": 120,
    "session_type": "group",
    "mode": "in_person",
    "location_type": "sports_hall",
    "activities": ["football"],
}


@pytest.fixture
def group(workspace, interventions_by_framework):
    """Friday Football: four enrolled throughout, one who left in October, one starting in
    December; the session date is 14 November 2025."""
    iid = interventions_by_framework["sports_diversion"]["id"]
    people = {first: _person(workspace, first) for first in FIRST}
    for first in FIRST[:4]:
        _enrol(workspace, people[first]["id"], iid, "2025-09-01")
    _enrol(workspace, people["Eve"]["id"], iid, "2025-09-01", end="2025-10-31")
    _enrol(workspace, people["Fin"]["id"], iid, "2025-12-01")
    return {"iid": iid, "people": people, "day": dt.date(2025, 11, 14)}


def test_roster_is_everyone_enrolled_on_the_date(workspace, group):
    rows = sessions.roster(workspace, group["iid"], group["day"])
    assert [r["name"] for r in rows] == [f"{f} Roster" for f in ("Ava", "Ben", "Cal", "Dee")]
    assert all(r["enrolled"] for r in rows)
    assert rows[0]["age"] == 15
    # on the last day of an enrolment they are still on it; the day after, not
    eve = group["people"]["Eve"]["id"]
    on_last_day = sessions.roster(workspace, group["iid"], dt.date(2025, 10, 31))
    assert eve in {r["id"] for r in on_last_day}
    # a starter is on from their first day
    fin = group["people"]["Fin"]["id"]
    assert fin in {r["id"] for r in sessions.roster(workspace, group["iid"], dt.date(2025, 12, 1))}


def test_absences_are_stored_and_counted_in_the_attendance_rate(workspace, group):
    ids = [r["id"] for r in sessions.roster(workspace, group["iid"], group["day"])]
    register = [{"participant_id": ids[0], "status": "absent"}] + [
        {"participant_id": pid, "status": s}
        for pid, s in zip(ids[1:], ("attended", "late", "left_early"), strict=True)
    ]
    s = sessions.log_session(
        workspace,
        group["iid"],
        {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)},
        register,
    )
    assert s["sync_state"] == "valid", s["findings"]
    saved = sessions.get_session(workspace, s["id"])
    assert sorted(a["status"] for a in saved["attendees"]) == [
        "absent",
        "attended",
        "late",
        "left_early",
    ]
    rates = sessions.attendance_rates(
        workspace, dt.date(2025, 10, 1), dt.date(2026, 1, 1), intervention_id=group["iid"]
    )
    assert rates == {"present": 3, "rows": 4, "rate": 0.75}
    # the list counts who was there, not who was absent
    assert sessions.list_sessions(workspace)[0]["attendees"] == 3


def test_repeat_proposes_the_last_run_on_or_before_now_never_the_future(workspace, group):
    friday = dt.datetime(2025, 11, 14, 18, 0)
    sessions.log_session(
        workspace,
        group["iid"],
        {**GROUP, "starts_at": friday},
        [r["id"] for r in sessions.roster(workspace, group["iid"], group["day"])],
    )
    # the morning after: not tonight at 18:00 (the future), but last night's session again
    saturday_morning = dt.datetime(2025, 11, 15, 9, 30)
    plan = sessions.propose_repeat(workspace, group["iid"], saturday_morning)
    assert plan["fields"]["starts_at"] <= saturday_morning
    # a week later, after the group's time: this week's run
    assert sessions.propose_repeat(workspace, group["iid"], dt.datetime(2025, 11, 21, 19, 0))[
        "fields"
    ]["starts_at"] == dt.datetime(2025, 11, 21, 18, 0)
    # a week later, before the group's time: still last week's, never later today
    before = dt.datetime(2025, 11, 21, 17, 0)
    assert sessions.propose_repeat(workspace, group["iid"], before)["fields"]["starts_at"] <= before
    for hours in range(0, 24 * 15, 5):
        at = friday + dt.timedelta(hours=hours)
        proposed = sessions.propose_repeat(workspace, group["iid"], at)["fields"]["starts_at"]
        assert proposed <= at, (at, proposed)
        assert proposed.time() == friday.time()
    # with the intervention's usual weekday and time, the last such evening
    assert sessions.last_occurrence(
        friday, dt.datetime(2025, 11, 26, 12, 0), weekday=4, time=dt.time(18, 0)
    ) == dt.datetime(2025, 11, 21, 18, 0)
    assert sessions.last_occurrence(
        friday, dt.datetime(2025, 11, 28, 17, 59), weekday=4, time=dt.time(18, 0)
    ) == dt.datetime(2025, 11, 21, 18, 0)
    # the plan's register is the roster on that date, everyone enrolled ticked
    plan = sessions.propose_repeat(workspace, group["iid"], dt.datetime(2025, 11, 21, 19, 0))
    assert len(plan["people"]) == 4 and all(p["ticked"] for p in plan["people"])


def test_duplicate_is_found_before_saving_and_kept_only_with_a_reason(workspace, group):
    ids = [r["id"] for r in sessions.roster(workspace, group["iid"], group["day"])]
    first = sessions.log_session(
        workspace, group["iid"], {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)}, ids
    )
    found = sessions.find_duplicates(
        workspace, group["iid"], dt.datetime(2025, 11, 14, 18, 30), 60, ids[:2]
    )
    assert [d["id"] for d in found] == [first["id"]] and found[0]["shared"] == 2
    # another time, other people or itself: not a duplicate
    assert not sessions.find_duplicates(
        workspace, group["iid"], dt.datetime(2025, 11, 21, 18, 0), 60, ids
    )
    assert not sessions.find_duplicates(
        workspace,
        group["iid"],
        dt.datetime(2025, 11, 14, 18, 0),
        60,
        [group["people"]["Fin"]["id"]],
    )
    assert not sessions.find_duplicates(
        workspace, group["iid"], dt.datetime(2025, 11, 14, 18, 0), 120, ids, exclude_id=first["id"]
    )
    again = sessions.log_session(
        workspace, group["iid"], {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)}, ids
    )
    assert again["sync_state"] == "draft"
    assert "duplicate_session" in {f["rule"] for f in again["findings"]}
    kept = sessions.log_session(
        workspace,
        group["iid"],
        {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)},
        ids,
        warning_reason="two pitches ran at once",
    )
    assert kept["sync_state"] == "valid"


def test_delete_leaves_a_tombstone_and_an_audit_event(workspace, group):
    ids = [r["id"] for r in sessions.roster(workspace, group["iid"], group["day"])]
    s = sessions.log_session(
        workspace, group["iid"], {**GROUP, "starts_at": dt.datetime(2025, 11, 14, 18, 0)}, ids
    )
    with pytest.raises(VrpError, match="reason"):
        sessions.delete_session(workspace, s["id"], reason="  ")
    assert sessions.count_sessions(workspace) == 1
    sessions.delete_session(workspace, s["id"], reason="Logged twice by Sam")
    assert sessions.count_sessions(workspace) == 0
    with workspace.read() as db:
        stone = db.query(Tombstone).filter_by(entity_id=s["id"]).one()
        assert (stone.entity, stone.reason, stone.sync_state) == ("session", "deleted", "valid")
        assert stone.version == s["version"] + 1
        event = db.query(AuditEvent).filter_by(action="session.delete").one()
        # the chain records that a reason was given; its words (which may name someone) stay out
        assert event.entity_id == s["id"] and event.reason == "<given>"
        assert "Sam" not in str(event.before) and "Sam" not in stone.reason
        assert audit.verify(db).ok
        from vrp_desktop.store.models import Attendance

        assert db.query(Attendance).filter_by(session_id=s["id"]).count() == 0


def test_register_search_lists_the_interventions_people_first_without_ended(workspace, group):
    walk_in = _person(workspace, "Ada")  # not enrolled anywhere
    rows = enrolments.find_for_register(workspace, "roster", group["iid"], group["day"])
    names = [r["display_name"] for r in rows]
    assert names[:4] == ["Ava Roster", "Ben Roster", "Cal Roster", "Dee Roster"]
    assert "Eve Roster" not in names  # enrolment ended before the date
    assert {r["state"] for r in rows[:4]} == {"enrolled"}
    assert rows[0]["age"] == 15 and rows[0]["reference"]
    assert walk_in["id"] in {r["id"] for r in rows[4:]}
    with_ended = enrolments.find_for_register(
        workspace, "roster", group["iid"], group["day"], include_ended=True
    )
    assert "Eve Roster" in [r["display_name"] for r in with_ended]
