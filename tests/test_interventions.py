"""Setting up interventions: create, edit, close and reopen, checked against the framework,
one audit event each, a new version to send after every change, history kept."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from vrp_desktop.errors import NotFound, VrpError
from vrp_desktop.services import interventions
from vrp_desktop.store.models import AuditEvent, Intervention

SHOUTED = "FRIDAY FOOTBALL, LADYWOOD"
FOOTBALL = {
    "name": "Friday football, Ladywood",
    "framework_id": "sports_diversion",
    "setting": "community",
    "tier": "targeted",
    "area": "Ladywood",
    "delivery": "group",
    "usual_weekday": "fri",
    "usual_time": "18:00",
    "usual_minutes": 90,
    "usual_mode": "in_person",
    "usual_location_type": "sports_hall",
    "lead_staff": "Jo Patel",
}


def _events(ws, entity_id: str) -> list[AuditEvent]:
    with ws.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.entity_id == entity_id).order_by(AuditEvent.seq)
            )
        )


def _state(ws) -> tuple:
    """Every intervention row and the length of the audit chain: what a refusal must not change."""
    with ws.read() as session:
        rows = [
            tuple(getattr(i, c.key) for c in Intervention.__table__.columns)
            for i in session.scalars(select(Intervention).order_by(Intervention.id))
        ]
        events = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    return rows, events


def _db_bytes(ws) -> str:
    digest = hashlib.sha256()
    for name in ("workspace.db", "workspace.db-wal"):
        path = ws.folder / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_create_keeps_every_field_and_one_audit_event(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    assert made["name"] == "Friday football, Ladywood"
    assert made["delivery"] == "group"
    assert made["usual_weekday"] == 4  # Friday
    assert made["usual_time"] == "18:00"
    assert made["usual_minutes"] == 90
    assert made["usual_mode"] == "in_person"
    assert made["usual_location_type"] == "sports_hall"
    assert made["lead_staff"] == "Jo Patel"
    assert made["active"] is True and made["closed_on"] is None
    assert made["version"] == 1 and made["sync_state"] == "valid"
    assert made["framework_version"] == 1
    assert interventions.get_intervention(workspace, made["id"]) == made
    (event,) = _events(workspace, made["id"])
    assert event.action == "intervention.create" and event.username == "manager"
    assert event.after["usual_location_type"] == "sports_hall" and event.before is None


def test_tier_defaults_to_the_frameworks_first_and_usual_values_are_optional(workspace):
    made = interventions.create_intervention(
        workspace, name="Drop-in", framework_id="mentoring", setting="community"
    )
    with workspace.read() as session:
        first_tier = interventions.fw_service.get(session, "mentoring").tier[0]
    assert made["tier"] == first_tier
    assert made["delivery"] is None and made["usual_weekday"] is None


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("setting", "moon_base", "is not one of Sports-based diversion's settings"),
        ("delivery", "webinar", "session types. Choose one of: group (Group)"),
        ("usual_mode", "online", "ways of meeting"),  # sports diversion is in person only
        ("usual_location_type", "hospital", "location types"),
        ("tier", "specialist", "tiers"),
        ("usual_minutes", 600, "30 to 240 minutes"),
        ("usual_minutes", "ninety", "not a number of minutes"),
        ("usual_time", "25:00", "not a time of day"),
        ("usual_weekday", "someday", "not a day of the week"),
        ("name", "  ", "Give the intervention a name"),
    ],
)
def test_bad_values_are_refused_with_what_to_do_and_nothing_changes(workspace, field, value, words):
    before, before_bytes = _state(workspace), _db_bytes(workspace)
    with pytest.raises(VrpError) as caught:
        interventions.create_intervention(workspace, **{**FOOTBALL, field: value})
    assert words in str(caught.value)
    assert _state(workspace) == before
    assert _db_bytes(workspace) == before_bytes


def test_unknown_framework_and_unknown_field_are_refused(workspace):
    before = _state(workspace)
    with pytest.raises(VrpError, match="not installed"):
        interventions.create_intervention(workspace, **{**FOOTBALL, "framework_id": "knitting"})
    with pytest.raises(VrpError, match="Unknown intervention field"):
        interventions.create_intervention(workspace, **FOOTBALL, colour="red")
    assert _state(workspace) == before


def test_a_second_open_intervention_with_the_same_name_is_refused(workspace):
    interventions.create_intervention(workspace, **FOOTBALL)
    before = _state(workspace)
    with pytest.raises(VrpError, match="already an intervention called"):
        interventions.create_intervention(workspace, **{**FOOTBALL, "name": SHOUTED})
    assert _state(workspace) == before


def test_edit_makes_a_new_version_to_send_and_audits_before_and_after(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    with workspace.unit() as session:  # as after a batch: the VRP holds version 1
        session.get(Intervention, made["id"]).sync_state = "sent"
    edited = interventions.edit_intervention(
        workspace, made["id"], {"name": "Friday football (Ladywood)", "usual_time": "18.30"}
    )
    assert edited["version"] == 2 and edited["sync_state"] == "valid"
    assert edited["name"] == "Friday football (Ladywood)" and edited["usual_time"] == "18:30"
    assert edited["usual_minutes"] == 90  # untouched fields stay
    _create, edit = _events(workspace, made["id"])
    assert edit.action == "intervention.edit"
    assert edit.before["name"] == FOOTBALL["name"] and edit.before["usual_time"] == "18:00"
    assert edit.after["name"] == "Friday football (Ladywood)"

    # an edit that changes nothing is no new version and no event
    same = interventions.edit_intervention(workspace, made["id"], {"usual_minutes": "90"})
    assert same["version"] == 2 and len(_events(workspace, made["id"])) == 2


def test_edit_checks_against_the_framework_and_refuses_a_new_framework(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    before = _state(workspace)
    with pytest.raises(VrpError, match="location types"):
        interventions.edit_intervention(workspace, made["id"], {"usual_location_type": "ward"})
    with pytest.raises(VrpError, match="stays under the framework"):
        interventions.edit_intervention(workspace, made["id"], {"framework_id": "mentoring"})
    with pytest.raises(VrpError, match="Say what to change"):
        interventions.edit_intervention(workspace, made["id"], {})
    with pytest.raises(NotFound):
        interventions.edit_intervention(workspace, "no-such-id", {"name": "x"})
    assert _state(workspace) == before


def test_close_and_reopen_keep_the_history(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    closed = interventions.close_intervention(
        workspace, made["id"], closed_on="2026-07-31", reason="Funding ended"
    )
    assert closed["active"] is False and closed["closed_on"] == "2026-07-31"
    assert closed["version"] == 2 and closed["sync_state"] == "valid"
    open_ids = {i["id"] for i in interventions.list_interventions(workspace)}
    assert made["id"] not in open_ids
    listed = interventions.list_interventions(workspace, active_only=False)
    assert listed[-1]["id"] == made["id"]  # closed ones come after the open ones
    assert all(i["active"] for i in listed[:-1])

    before = _state(workspace)
    with pytest.raises(VrpError, match="already closed"):
        interventions.close_intervention(workspace, made["id"])
    assert _state(workspace) == before

    reopened = interventions.reopen_intervention(workspace, made["id"])
    assert reopened["active"] is True and reopened["closed_on"] is None
    assert reopened["version"] == 3
    actions = [e.action for e in _events(workspace, made["id"])]
    assert actions == ["intervention.create", "intervention.close", "intervention.reopen"]
    close_event = _events(workspace, made["id"])[1]
    # the chain records that a reason was given, never its free text (it may name someone)
    assert close_event.reason == "<given>"
    assert close_event.before["active"] is True and close_event.after["closed_on"] == "2026-07-31"


def test_close_in_the_future_is_refused(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    before = _state(workspace)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(VrpError, match="today or an earlier date"):
        interventions.close_intervention(workspace, made["id"], closed_on=tomorrow)
    assert _state(workspace) == before


def test_reopen_refuses_a_name_clash(workspace):
    old = interventions.create_intervention(workspace, **FOOTBALL)
    interventions.close_intervention(workspace, old["id"])
    interventions.create_intervention(workspace, **FOOTBALL)
    before = _state(workspace)
    with pytest.raises(VrpError, match="already an intervention called"):
        interventions.reopen_intervention(workspace, old["id"])
    assert _state(workspace) == before


def test_find_by_name_or_id_and_framework_choices_show_labels(workspace):
    made = interventions.create_intervention(workspace, **FOOTBALL)
    assert interventions.find_intervention(workspace, SHOUTED.lower())["id"] == made["id"]
    assert interventions.find_intervention(workspace, made["id"])["id"] == made["id"]
    assert interventions.find_intervention(workspace, made["id"][:13])["id"] == made["id"]
    with pytest.raises(NotFound, match="list --all"):
        interventions.find_intervention(workspace, "Tuesday boxing")
    choices = {c["id"]: c for c in interventions.framework_choices(workspace)}
    sports = choices["sports_diversion"]
    assert sports["name"] == "Sports-based diversion"
    assert sports["labels"]["delivery"]["one_to_one"] == "One-to-one"
    assert sports["labels"]["usual_location_type"]["sports_hall"] == "Sports hall"
    assert sports["duration_minutes"] == (30, 240)
    assert sports["in_use"] == 2  # the conftest's Friday Football and this one
