"""The record services: what a person records is what the store holds, validated and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from vrp_desktop.errors import PermissionDenied, VrpError
from vrp_desktop.services import audit, enrolments, outcomes, participants, quality, sessions, users
from vrp_desktop.store.models import AuditEvent, Tombstone

TODAY = dt.date.today()


def _person(ws, first="Jamal", last="Reid", **extra):
    fields = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": TODAY.replace(year=TODAY.year - 15) - dt.timedelta(days=40),
        "gender": "male",
        "ethnicity": "black_caribbean",
        "postcode": "b5 4tj",
        "consent_status": "given",
        "consent_date": TODAY - dt.timedelta(days=30),
        "address": "1 Church Road",
        **extra,
    }
    return participants.create_participant(ws, fields)


def _enrolled(ws, intervention, **extra):
    p = _person(ws, **extra)
    enrolments.enrol(
        ws,
        p["id"],
        intervention["id"],
        {
            "referral_source": "police",
            "referral_date": TODAY - dt.timedelta(days=30),
            "start_date": TODAY - dt.timedelta(days=28),
        },
    )
    return p


def test_participant_shareable_fields_are_derived(workspace):
    p = _person(workspace)
    assert p["sync_state"] == "valid" and p["findings"] == []
    assert p["postcode_district"] == "B5"
    assert p["age_band"] == "14-15"
    assert p["reference"].startswith("YP-")
    assert len(p["pseudonym"]) == 32


def test_pseudonym_is_the_same_person_across_spellings_and_not_across_people(workspace):
    a = _person(workspace, first="Zoë", last="O'Neil")
    b = _person(workspace, first="zoe", last="oneil")
    c = _person(workspace, first="Zoe", last="Oneill")
    assert a["pseudonym"] == b["pseudonym"] != c["pseudonym"]


def test_invalid_participant_is_kept_as_a_draft_with_findings(workspace):
    p = participants.create_participant(workspace, {"first_name": "Aisha"})
    assert p["sync_state"] == "draft"
    fields = {f["field"] for f in p["findings"]}
    assert {"last_name", "date_of_birth"} <= fields
    fixed = participants.update_participant(
        workspace,
        p["id"],
        {
            "last_name": "Khan",
            "date_of_birth": "01/02/2012",
            "gender": "female",
            "ethnicity": "asian_pakistani",
            "consent_status": "given",
            "consent_date": TODAY,
        },
    )
    assert fixed["sync_state"] == "valid" and fixed["version"] == 2


def test_bad_date_is_refused_with_the_format_and_nothing_saved(workspace):
    with pytest.raises(VrpError, match="dd/mm/yyyy"):
        participants.create_participant(
            workspace, {"first_name": "A", "date_of_birth": "31/02/2011"}
        )
    assert participants.count_participants(workspace) == 0


def test_search_by_name_prefix_reference_and_district(workspace):
    jamal = _person(workspace)
    _person(workspace, first="Amara", last="Mensah", postcode="B12 9QQ")
    assert [r["id"] for r in participants.list_participants(workspace, "jam")] == [jamal["id"]]
    assert [r["id"] for r in participants.list_participants(workspace, "rei jam")] == [jamal["id"]]
    assert participants.count_participants(workspace, "b12") == 1
    ref = jamal["reference"]
    assert participants.list_participants(workspace, ref)[0]["id"] == jamal["id"]
    assert participants.list_participants(workspace, "zzz") == []


def test_group_session_with_register(workspace, interventions_by_framework):
    football = interventions_by_framework["sports_diversion"]
    people = [_enrolled(workspace, football, first=f"Player{i}") for i in range(12)]
    s = sessions.log_session(
        workspace,
        football["id"],
        {
            "starts_at": dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(18, 30)),
            "duration_minutes": 90,
            "session_type": "group",
            "mode": "in_person",
            "location_type": "sports_hall",
            "activities": ["football"],
            "notes": "good night",
        },
        [p["id"] for p in people[:11]] + [{"participant_id": people[11]["id"], "status": "late"}],
    )
    assert s["sync_state"] == "valid", s["findings"]
    stored = sessions.get_session(workspace, s["id"])
    assert len(stored["attendees"]) == 12
    assert {a["status"] for a in stored["attendees"]} == {"attended", "late"}
    assert stored["activities"] == ["football"]
    again = sessions.repeat_last(workspace, football["id"])
    assert sorted(again["attendees"]) == sorted(p["id"] for p in people)
    assert again["fields"]["notes"] is None


def test_unenrolled_attendee_and_future_session_are_errors(workspace, interventions_by_framework):
    football = interventions_by_framework["sports_diversion"]
    stranger = _person(workspace)
    s = sessions.log_session(
        workspace,
        football["id"],
        {
            "starts_at": dt.datetime.now() + dt.timedelta(days=2),
            "duration_minutes": 60,
            "session_type": "group",
            "mode": "in_person",
            "location_type": "sports_hall",
            "activities": ["football"],
        },
        [stranger["id"]],
    )
    rules = {f["rule"] for f in s["findings"] if f["severity"] == "error"}
    assert {"not_enrolled", "future_session"} <= rules
    assert s["sync_state"] == "draft"
    assert quality.attention_counts(workspace)["session"] == 1


def test_questionnaire_scores_are_stored_with_the_scoring_version(
    workspace, interventions_by_framework
):
    mentoring = interventions_by_framework["mentoring"]
    p = _enrolled(workspace, mentoring)
    answers = [1] * 25
    r = outcomes.record_response(
        workspace,
        p["id"],
        "sdq_s11_17",
        "baseline",
        answers,
        completed_on=TODAY - dt.timedelta(days=27),
    )
    preview = outcomes.preview_scores("sdq_s11_17", answers)
    assert r["scores"] == preview["scores"]
    assert r["scoring_version"] == "sdq_s11_17:v1"
    assert r["sync_state"] == "valid", r["findings"]


def test_erasure_leaves_no_personal_data_and_tombstones(workspace, interventions_by_framework):
    mentoring = interventions_by_framework["mentoring"]
    p = _enrolled(workspace, mentoring, first="Octavia", last="Blackwood")
    with pytest.raises(VrpError, match="type the participant's reference"):
        participants.erase_participant(workspace, p["id"], confirm="wrong", reason="request")
    assert participants.get_participant(workspace, p["id"])["first_name"] == "Octavia"
    participants.erase_participant(workspace, p["id"], confirm=p["reference"], reason="SAR")
    gone = participants.get_participant(workspace, p["id"])
    assert gone["erased"] and gone["first_name"] is None and gone["date_of_birth"] is None
    assert participants.list_participants(workspace, "octa") == []
    with workspace.read() as session:
        stones = session.scalars(select(Tombstone)).all()
        assert {s.entity for s in stones} == {"participant", "enrolment"}
        events = session.scalars(select(AuditEvent)).all()
    assert all("Octavia" not in str(e.before) + str(e.after) for e in events)


def test_worker_cannot_erase(workspace):
    p = _person(workspace)
    users.add_user(workspace, "sam", "sam's own passphrase 7", role="worker")
    from vrp_desktop.workspace import Workspace

    with Workspace.open(workspace.folder, "sam", "sam's own passphrase 7") as sam:
        with pytest.raises(PermissionDenied):
            participants.erase_participant(sam, p["id"], confirm=p["reference"], reason="x")
        # ...but can record
        participants.update_participant(sam, p["id"], {"preferred_name": "Jay"})


def test_audit_chain_verifies_and_detects_tampering(workspace):
    _person(workspace)
    _person(workspace, first="Leah")
    with workspace.read() as session:
        report = audit.verify(session)
    assert report.ok and report.events >= 4
    with workspace.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_event SET username = 'mallory' WHERE seq = 2")
    with workspace.read() as session:
        broken = audit.verify(session)
    assert not broken.ok and broken.first_bad_seq == 2
