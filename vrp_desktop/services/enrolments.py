"""Enrolments: a participant's referral into, time on, and exit from an intervention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from vrp_desktop import codes
from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import (
    bump,
    clean_values,
    get_or_404,
    settle,
    snapshot,
    sync_fields,
    today,
)
from vrp_desktop.services.participants import as_record as participant_record
from vrp_desktop.store.models import Enrolment, Intervention, Participant
from vrp_desktop.validation.engine import validate_enrolment

FIELDS = (
    "referral_source",
    "referral_date",
    "start_date",
    "end_date",
    "exit_reason",
    "exit_detail",
)
_DATES = ("referral_date", "start_date", "end_date")


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    return clean_values(
        fields, FIELDS, "enrolment", dates=_DATES, codes=("referral_source", "exit_reason")
    )


def as_record(e: Enrolment) -> dict[str, Any]:
    return {
        "id": e.id,
        "participant_id": e.participant_id,
        "intervention_id": e.intervention_id,
        **{name: getattr(e, name) for name in FIELDS},
    }


def to_dict(e: Enrolment) -> dict[str, Any]:
    return {**as_record(e), **sync_fields(e)}


def _validate(session, e: Enrolment, warning_reason: str | None) -> None:
    intervention = session.get(Intervention, e.intervention_id)
    framework = fw_service.get(session, intervention.framework_id, intervention.framework_version)
    participant = session.get(Participant, e.participant_id)
    findings = validate_enrolment(
        as_record(e),
        participant=participant_record(participant),
        framework=framework,
        today=today(),
    )
    settle(e, findings, warning_reason)


def enrol(
    ws,
    participant_id: str,
    intervention_id: str,
    fields: Mapping[str, Any],
    *,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    ws.require("record")
    values = _clean(fields)
    with ws.unit() as session:
        participant = get_or_404(session, Participant, participant_id, "participant")
        if participant.erased_at is not None:
            raise VrpError("This participant's data was erased; they cannot be enrolled.")
        get_or_404(session, Intervention, intervention_id, "intervention")
        e = Enrolment(
            participant_id=participant_id, intervention_id=intervention_id, version=1, **values
        )
        session.add(e)
        _validate(session, e, warning_reason)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "enrolment.create",
            "enrolment",
            e.id,
            after=snapshot(e, FIELDS),
        )
        return to_dict(e)


def update_enrolment(
    ws,
    enrolment_id: str,
    changes: Mapping[str, Any],
    *,
    reason: str | None = None,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    ws.require("record")
    values = _clean(changes)
    with ws.unit() as session:
        e = get_or_404(session, Enrolment, enrolment_id, "enrolment")
        before = snapshot(e, FIELDS)
        for key, value in values.items():
            setattr(e, key, value)
        bump(e)
        _validate(session, e, warning_reason)
        audit.append(
            session,
            ws.user.username,
            "enrolment.update",
            "enrolment",
            e.id,
            before=before,
            after=snapshot(e, FIELDS),
            reason=reason,
        )
        return to_dict(e)


def exit_enrolment(
    ws,
    enrolment_id: str,
    *,
    end_date: dt.date | str,
    exit_reason: str,
    exit_detail: str | None = None,
) -> dict[str, Any]:
    return update_enrolment(
        ws,
        enrolment_id,
        {"end_date": end_date, "exit_reason": exit_reason, "exit_detail": exit_detail},
        reason="exit",
    )


def enrolments_for(ws, participant_id: str) -> list[dict[str, Any]]:
    with ws.read() as session:
        rows = session.scalars(
            select(Enrolment)
            .where(Enrolment.participant_id == participant_id)
            .order_by(Enrolment.start_date)
        )
        return [to_dict(e) for e in rows]


def _span_state(spans: list[dict[str, Any]], day: dt.date) -> str:
    """'enrolled' on ``day``, 'ended' before it, 'starts later', or 'not enrolled'."""
    if any(
        e["start_date"] and e["start_date"] <= day and (not e["end_date"] or e["end_date"] >= day)
        for e in spans
    ):
        return "enrolled"
    if any(e["end_date"] and e["end_date"] < day for e in spans):
        return "ended"
    if spans:
        return "starts later"
    return "not enrolled"


def find_for_register(
    ws,
    text: str,
    intervention_id: str | None,
    day: dt.date,
    *,
    include_ended: bool = False,
    limit: int = 30,
) -> list[dict[str, Any]]:
    """People to add to a session's register, matching ``text``: the intervention's enrolled
    people first, then everyone else (walk-ins). People whose enrolment in this intervention
    has ended are left out unless ``include_ended``. Each row has name, reference, age on
    ``day`` and how they stand with the intervention."""
    from vrp_desktop.services import participants

    rows = participants.list_participants(ws, text, limit=limit)
    if intervention_id:  # the intervention's own people first, however far down the alphabet
        ours = participants.list_participants(
            ws, text, intervention_id=intervention_id, limit=limit
        )
        rows = list({r["id"]: r for r in [*ours, *rows]}.values())
    ids = [r["id"] for r in rows]
    spans: dict[str, list[dict[str, Any]]] = {}
    if intervention_id and ids:
        with ws.read() as session:
            for e in session.scalars(
                select(Enrolment).where(
                    Enrolment.participant_id.in_(ids),
                    Enrolment.intervention_id == intervention_id,
                )
            ):
                spans.setdefault(e.participant_id, []).append(
                    {"start_date": e.start_date, "end_date": e.end_date}
                )
    order = {"enrolled": 0, "starts later": 1, "not enrolled": 2, "ended": 3}
    found = []
    for r in rows:
        state = _span_state(spans.get(r["id"], []), day) if intervention_id else "not enrolled"
        if state == "ended" and not include_ended:
            continue
        dob = r["date_of_birth"]
        found.append(
            {
                "id": r["id"],
                "reference": r["reference"],
                "display_name": r["display_name"],
                "age": codes.age_on(dob, day) if dob and dob <= day else None,
                "state": state,
            }
        )
    found.sort(key=lambda f: order[f["state"]])  # stable: keeps name order within a group
    return found[:limit]
