"""Dashboard aggregates against hand-made data (no Qt)."""

from __future__ import annotations

import datetime as dt

import pytest

from vrp_desktop.services import dashboard
from vrp_desktop.store.models import Attendance, Participant, Session

TODAY = dt.date(2026, 5, 14)  # a Thursday in Q1 2026-27


@pytest.mark.parametrize(
    ("day", "start", "end", "label"),
    [
        (dt.date(2026, 4, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1), "Q1 2026-27"),
        (dt.date(2026, 9, 30), dt.date(2026, 7, 1), dt.date(2026, 10, 1), "Q2 2026-27"),
        (dt.date(2026, 12, 31), dt.date(2026, 10, 1), dt.date(2027, 1, 1), "Q3 2026-27"),
        (dt.date(2027, 3, 31), dt.date(2027, 1, 1), dt.date(2027, 4, 1), "Q4 2026-27"),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1), "Q4 2025-26"),
    ],
)
def test_uk_quarter(day, start, end, label):
    assert dashboard.uk_quarter(day) == (start, end, label)


def test_week_start_is_monday():
    assert dashboard.week_start(TODAY) == dt.date(2026, 5, 11)
    assert dashboard.week_start(dt.date(2026, 5, 11)) == dt.date(2026, 5, 11)
    assert dashboard.week_start(dt.date(2026, 5, 17)) == dt.date(2026, 5, 11)


@pytest.fixture
def data(workspace, interventions_by_framework):
    """Four people and five sessions, written straight into the store."""
    iid = interventions_by_framework["sports_diversion"]["id"]
    people = {
        "a": Participant(reference="YP-A", age_band="14-15", gender="male"),
        "b": Participant(reference="YP-B", age_band="14-15", gender="female"),
        "c": Participant(reference="YP-C", age_band="16-17", gender="female"),
        "d": Participant(reference="YP-D", age_band=None, gender=None),
        "e": Participant(
            reference="YP-E", age_band="16-17", gender="male", erased_at=dt.datetime(2026, 5, 1)
        ),
    }

    def session(when: dt.datetime, status: str, register: dict[str, str]) -> Session:
        s = Session(intervention_id=iid, starts_at=when, session_type="group", status=status)
        s.attendances = [
            Attendance(participant_id=people[k].id, status=v) for k, v in register.items()
        ]
        return s

    with workspace.unit() as db:
        db.add_all(people.values())
        db.flush()
        db.add_all(
            [
                # this week (Mon 11 May): two delivered, one cancelled
                session(
                    dt.datetime(2026, 5, 11, 18),
                    "delivered",
                    {"a": "attended", "b": "late", "e": "attended"},
                ),
                session(
                    dt.datetime(2026, 5, 13, 23, 30), "delivered", {"a": "attended", "c": "absent"}
                ),
                session(dt.datetime(2026, 5, 12, 18), "cancelled", {"c": "attended"}),
                # earlier this quarter (week of 13 April)
                session(
                    dt.datetime(2026, 4, 14, 18), "delivered", {"d": "left_early", "c": "absent"}
                ),
                # last quarter, 7 weeks before this week: counted per week, not in reach
                session(dt.datetime(2026, 3, 24, 18), "delivered", {"c": "attended"}),
            ]
        )
    return people


def test_sessions_this_week_counts_delivered_only(workspace, data):
    monday = dashboard.week_start(TODAY)
    assert dashboard.count_delivered(workspace, monday, monday + dt.timedelta(days=7)) == 2


def test_sessions_per_week(workspace, data):
    weeks = dashboard.sessions_per_week(workspace, weeks=12, today=TODAY)
    assert len(weeks) == 12
    assert weeks[-1] == (dt.date(2026, 5, 11), 2)
    assert weeks[0][0] == dt.date(2026, 2, 23)
    as_dict = dict(weeks)
    assert as_dict[dt.date(2026, 4, 13)] == 1
    assert as_dict[dt.date(2026, 3, 23)] == 1
    assert sum(as_dict.values()) == 4


def test_reach_this_quarter(workspace, data):
    start, end, _ = dashboard.uk_quarter(TODAY)
    # a, b (late counts), d (left early); c only absent or at a cancelled session; e erased
    assert dashboard.people_reached(workspace, start, end) == 3
    assert dashboard.reach_by_age_gender(workspace, start, end) == {
        ("14-15", "male"): 1,
        ("14-15", "female"): 1,
        ("not_known", "not_known"): 1,
    }


def test_summary_and_attention(workspace, data):
    summary = dashboard.summary(workspace, today=TODAY)
    assert summary["sessions_this_week"] == 2
    assert summary["reached_this_quarter"] == 3
    assert summary["quarter"][2] == "Q1 2026-27"
    assert summary["sessions_total"] == 5
    # hand-made rows default to draft with no findings: they all need attention
    pages = {(i["entity"], i["page"]) for i in summary["attention"]}
    assert ("participant", "participants") in pages
    assert ("session", "sessions") in pages
    assert summary["attention_total"] >= len(data) + 5
    for item in summary["attention"]:
        assert item["label"] and item["message"]
        assert "YP-" in item["label"] or item["entity"] != "participant"
