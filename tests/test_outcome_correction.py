"""Correcting a saved questionnaire, and the timepoint suggested as due."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from vrp_desktop.errors import VrpError
from vrp_desktop.services import enrolments, outcomes, participants
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.store.models import AuditEvent, OutcomeResponse

FIRST = [0, 1, 2, 1, 2, 0, 1, 2, 1, 0, 2, 1, 2, 0, 1, 2, 0, 2, 1, 1, 0, 2, 1, 2, 0]
FIXED = [2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]


@pytest.fixture
def mentee(workspace, interventions_by_framework):
    p = participants.create_participant(
        workspace,
        {
            "first_name": "Imani",
            "last_name": "Okafor",
            "date_of_birth": "2012-02-02",
            "gender": "female",
            "ethnicity": "black_african",
            "consent_status": "given",
            "consent_date": "2026-01-01",
        },
    )
    today = dt.date.today()
    e = enrolments.enrol(
        workspace,
        p["id"],
        interventions_by_framework["mentoring"]["id"],
        {"referral_source": "school", "referral_date": today, "start_date": today},
    )
    return {**p, "enrolment_id": e["id"]}


def _events(ws, record_id: str) -> list[AuditEvent]:
    with ws.read() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == record_id).order_by(AuditEvent.seq)
        ).all()
        session.expunge_all()
        return list(rows)


def test_correction_is_a_new_version_with_new_scores_and_one_audit_event(workspace, mentee):
    saved = outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", FIRST)
    with workspace.unit() as session:  # as if the last batch had taken it
        session.get(OutcomeResponse, saved["id"]).sync_state = "sent"

    fixed = outcomes.correct_response(workspace, saved["id"], FIXED, reason="typed in wrong")

    expected = outcomes.preview_scores("sdq_s11_17", FIXED)
    assert fixed["version"] == saved["version"] + 1
    assert fixed["answers"] == FIXED
    assert fixed["scores"] == expected["scores"] != saved["scores"]
    assert fixed["bands"] == expected["bands"]
    assert fixed["sync_state"] == "valid"  # it travels in the next batch
    stored = outcomes.responses_for(workspace, mentee["id"])
    assert [(r["id"], r["version"]) for r in stored] == [(saved["id"], 2)]

    events = _events(workspace, saved["id"])
    assert [e.action for e in events] == ["response.create", "response.correct"]
    correction = events[-1]
    assert correction.before["scores"] == saved["scores"]
    assert correction.after["scores"] == fixed["scores"]
    assert (
        correction.reason == "<given>"
    )  # that a reason was given; its text stays out of the chain
    # the answers themselves are never in the audit log
    text = json.dumps([correction.before, correction.after])
    assert "answers" not in text


def test_a_correction_with_the_wrong_number_of_answers_is_refused_unchanged(workspace, mentee):
    saved = outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", FIRST)
    with pytest.raises(VrpError, match="25 questions but 24 answers"):
        outcomes.correct_response(workspace, saved["id"], FIXED[:24])
    with pytest.raises(VrpError):
        outcomes.correct_response(workspace, saved["id"], [7] * 25)
    after = outcomes.responses_for(workspace, mentee["id"])[0]
    assert after["answers"] == FIRST and after["version"] == 1
    assert [e.action for e in _events(workspace, saved["id"])] == ["response.create"]


def _use(measure_id: str = "sdq_s11_17"):
    fw = fw_service.builtin_catalog().framework("mentoring")
    return next(u for u in fw.measures if u.measure_id == measure_id)


@pytest.mark.parametrize(
    ("start_days_ago", "ended_days_ago", "done", "due"),
    [
        (0, None, [], "baseline"),  # nothing yet: baseline
        (200, None, [], "baseline"),  # a late baseline still comes first
        (90, None, ["baseline"], "review"),  # the review window is open
        (30, None, ["baseline"], "review"),  # review still to come
        (200, None, ["baseline"], "exit"),  # review window passed: the exit is what is left
        (100, 3, ["baseline"], "exit"),  # the enrolment has ended: exit, even before review
        (100, 3, ["baseline", "review", "exit"], None),  # all done
    ],
)
def test_due_timepoint(start_days_ago, ended_days_ago, done, due):
    today = dt.date(2026, 6, 1)
    enrolment = {
        "start_date": today - dt.timedelta(days=start_days_ago),
        "end_date": None if ended_days_ago is None else today - dt.timedelta(days=ended_days_ago),
    }
    assert outcomes.due_timepoint(_use(), enrolment, done, today) == due
