"""The participant timeline: sessions attended and questionnaires, in date order."""

from __future__ import annotations

import datetime as dt

from vrp_desktop.services import enrolments, outcomes, participants, sessions, timeline


def _person(ws, first="Jamal", last="Reid"):
    return participants.create_participant(
        ws,
        {
            "first_name": first,
            "last_name": last,
            "date_of_birth": "2011-03-04",
            "gender": "male",
            "ethnicity": "black_african",
            "consent_status": "given",
            "consent_date": "2026-01-05",
        },
    )


def test_timeline_orders_sessions_and_questionnaires(workspace, interventions_by_framework):
    mentoring = interventions_by_framework["mentoring"]
    p = _person(workspace)
    other = _person(workspace, "Ava", "Khan")
    e = enrolments.enrol(
        workspace,
        p["id"],
        mentoring["id"],
        {"referral_source": "school", "referral_date": "2026-01-02", "start_date": "2026-01-05"},
    )
    fields = {
        "duration_minutes": 60,
        "session_type": "one_to_one",
        "mode": "in_person",
        "location_type": "community_centre",
        "activities": [],
    }
    later = sessions.log_session(
        workspace, mentoring["id"], {**fields, "starts_at": "2026-02-10 16:00"}, [p["id"]]
    )
    earlier = sessions.log_session(
        workspace,
        mentoring["id"],
        {**fields, "starts_at": "2026-01-20 16:00"},
        [{"participant_id": p["id"], "status": "late"}],
    )
    sessions.log_session(
        workspace, mentoring["id"], {**fields, "starts_at": "2026-01-21 16:00"}, [other["id"]]
    )
    response = outcomes.record_response(
        workspace,
        p["id"],
        "sdq_s11_17",
        "baseline",
        [1] * 25,
        completed_on="2026-01-25",
        enrolment_id=e["id"],
    )

    entries = timeline.timeline(workspace, p["id"])

    assert [(x["kind"], x["record_id"]) for x in entries] == [
        ("enrolment", e["id"]),
        ("session", earlier["id"]),
        ("questionnaire", response["id"]),
        ("session", later["id"]),
    ]
    assert entries[1]["detail"] == "Arrived late"
    assert "Strengths and Difficulties" in entries[2]["title"]


def test_timeline_empty_and_recent_responses(workspace, interventions_by_framework):
    p = _person(workspace)
    assert timeline.timeline(workspace, p["id"]) == []
    assert timeline.recent_responses(workspace) == []
    enrolments.enrol(
        workspace,
        p["id"],
        interventions_by_framework["mentoring"]["id"],
        {
            "referral_source": "school",
            "referral_date": dt.date.today(),
            "start_date": dt.date.today(),
        },
    )
    outcomes.record_response(workspace, p["id"], "sdq_s11_17", "baseline", [0] * 25)
    recent = timeline.recent_responses(workspace)
    assert [r["reference"] for r in recent] == [p["reference"]]
