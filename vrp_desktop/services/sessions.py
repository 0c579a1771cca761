"""Sessions (1:1, group, outreach) and their registers of attendance.

A session and its whole register are saved in one transaction with one audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop import codes
from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import (
    bump,
    get_or_404,
    now,
    parse_datetime,
    reject_unknown,
    settle,
    snapshot,
    sync_fields,
)
from vrp_desktop.store.models import Attendance, Enrolment, Intervention, Participant, Session
from vrp_desktop.validation.engine import AttendeeContext, validate_session

FIELDS = (
    "starts_at",
    "duration_minutes",
    "session_type",
    "mode",
    "location_type",
    "staff",
    "activities",
    "notes",
    "status",
)
_AUDITED = (*FIELDS, "intervention_id")


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown(fields, FIELDS, "session")
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or None
        if key == "starts_at":
            value = parse_datetime(value, key)
        elif key == "duration_minutes" and value is not None:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise VrpError(
                    "duration_minutes: give the length in whole minutes, e.g. 90."
                ) from None
        elif key in ("staff", "activities"):
            value = [str(v).strip() for v in (value or []) if str(v).strip()]
        values[key] = value
    return values


def _attendee_list(attendees: Sequence[Mapping[str, Any] | str]) -> list[tuple[str, str]]:
    result: dict[str, str] = {}
    for item in attendees:
        if isinstance(item, str):
            result[item] = "attended"
        else:
            result[str(item["participant_id"])] = str(item.get("status") or "attended")
    return list(result.items())


def as_record(s: Session) -> dict[str, Any]:
    return {
        "id": s.id,
        "intervention_id": s.intervention_id,
        **{name: getattr(s, name) for name in FIELDS},
    }


def to_dict(s: Session) -> dict[str, Any]:
    return {
        **as_record(s),
        **sync_fields(s),
        "attendees": [
            {"participant_id": a.participant_id, "status": a.status} for a in s.attendances
        ],
    }


def _contexts(session: OrmSession, s: Session) -> list[AttendeeContext]:
    """What the validation engine needs to know about each attendee, in three queries.

    Double-booking is found from the other side: the few sessions that overlap in time (by
    the ``starts_at`` index), then which of our attendees were at them (by the unique
    session/participant index). That stays fast however long a person's history is.
    """
    ids = [a.participant_id for a in s.attendances]
    if not ids:
        return []
    references = dict(
        session.execute(
            select(Participant.id, Participant.reference).where(Participant.id.in_(ids))
        ).all()
    )
    enrolled: set[str] = set()
    clashes: dict[str, list[str]] = {}
    if s.starts_at is not None:
        day = s.starts_at.date()
        ends = s.starts_at + dt.timedelta(minutes=s.duration_minutes or 0)
        enrolled = set(
            session.scalars(
                select(Enrolment.participant_id).where(
                    Enrolment.participant_id.in_(ids),
                    Enrolment.intervention_id == s.intervention_id,
                    Enrolment.start_date <= day,
                    (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= day),
                )
            )
        )
        overlapping = (
            select(Session.id, Session.starts_at, Session.duration_minutes)
            .where(
                Session.starts_at < ends,
                Session.starts_at >= s.starts_at - dt.timedelta(hours=24),
                Session.status == "delivered",
                Session.id != s.id,
            )
            .subquery()
        )
        rows = session.execute(
            select(
                Attendance.participant_id,
                overlapping.c.id,
                overlapping.c.starts_at,
                overlapping.c.duration_minutes,
            )
            .join(overlapping, overlapping.c.id == Attendance.session_id)
            .where(
                Attendance.participant_id.in_(ids),
                Attendance.status.in_(tuple(codes.PRESENT_STATUSES)),
            )
        ).all()
        for pid, other_id, start, minutes in rows:
            if start + dt.timedelta(minutes=minutes or 0) > s.starts_at:
                clashes.setdefault(pid, []).append(other_id)
    return [
        AttendeeContext(
            participant_id=a.participant_id,
            reference=references.get(a.participant_id, a.participant_id),
            status=a.status,
            enrolled=a.participant_id in enrolled,
            clashing_session_ids=clashes.get(a.participant_id, []),
        )
        for a in s.attendances
    ]


def _validate(session: OrmSession, s: Session, warning_reason: str | None) -> None:
    intervention = session.get(Intervention, s.intervention_id)
    framework = fw_service.get(session, intervention.framework_id, intervention.framework_version)
    findings = validate_session(
        as_record(s), framework=framework, attendees=_contexts(session, s), now=now()
    )
    settle(s, findings, warning_reason)
    for a in s.attendances:
        # an attendance travels only with a session the VRP can accept
        a.sync_state = s.sync_state
        a.findings = []


def _set_register(session: OrmSession, s: Session, attendees: list[tuple[str, str]]) -> None:
    wanted = dict(attendees)
    for a in list(s.attendances):
        if a.participant_id not in wanted:
            s.attendances.remove(a)
    existing = {a.participant_id: a for a in s.attendances}
    for pid, status in wanted.items():
        person = session.get(Participant, pid)
        if person is None or person.erased_at is not None:
            raise VrpError(f"Attendee {pid} is not a participant in this workspace.")
        if pid in existing:
            if existing[pid].status != status:
                existing[pid].status = status
                bump(existing[pid])
        else:
            s.attendances.append(Attendance(participant_id=pid, status=status, version=1))


def log_session(
    ws,
    intervention_id: str,
    fields: Mapping[str, Any],
    attendees: Sequence[Mapping[str, Any] | str] = (),
    *,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    """Save a session with its register. Saved as a draft if it has errors, so nothing is lost."""
    ws.require("record")
    values = _clean(fields)
    values.setdefault("status", "delivered")
    values.setdefault("staff", [ws.user.username])
    if values.get("starts_at") is None:
        raise VrpError("starts_at: give the date and time the session started.")
    if not values.get("session_type"):
        raise VrpError("session_type: choose 1:1, group or outreach.")
    with ws.unit() as session:
        get_or_404(session, Intervention, intervention_id, "intervention")
        s = Session(
            intervention_id=intervention_id, version=1, created_by=ws.user.username, **values
        )
        session.add(s)
        _set_register(session, s, _attendee_list(attendees))
        session.flush()
        _validate(session, s, warning_reason)
        audit.append(
            session,
            ws.user.username,
            "session.create",
            "session",
            s.id,
            after={**snapshot(s, _AUDITED), "attendees": len(s.attendances)},
        )
        return to_dict(s)


def update_session(
    ws,
    session_id: str,
    changes: Mapping[str, Any],
    attendees: Sequence[Mapping[str, Any] | str] | None = None,
    *,
    reason: str | None = None,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    ws.require("record")
    values = _clean(changes)
    with ws.unit() as session:
        s = get_or_404(session, Session, session_id, "session")
        before = {**snapshot(s, _AUDITED), "attendees": len(s.attendances)}
        for key, value in values.items():
            setattr(s, key, value)
        if attendees is not None:
            _set_register(session, s, _attendee_list(attendees))
        bump(s)
        session.flush()
        _validate(session, s, warning_reason)
        audit.append(
            session,
            ws.user.username,
            "session.update",
            "session",
            s.id,
            before=before,
            after={**snapshot(s, _AUDITED), "attendees": len(s.attendances)},
            reason=reason,
        )
        return to_dict(s)


def get_session(ws, session_id: str) -> dict[str, Any]:
    with ws.read() as session:
        return to_dict(get_or_404(session, Session, session_id, "session"))


def last_session(ws, intervention_id: str) -> dict[str, Any] | None:
    """The most recent session of an intervention: the starting point for 'repeat last'."""
    with ws.read() as session:
        s = session.scalars(
            select(Session)
            .where(Session.intervention_id == intervention_id)
            .order_by(Session.starts_at.desc())
            .limit(1)
        ).first()
        return to_dict(s) if s else None


def repeat_last(ws, intervention_id: str, *, on: dt.date | None = None) -> dict[str, Any] | None:
    """Fields and register for this week's run of a weekly group, from its last session."""
    last = last_session(ws, intervention_id)
    if last is None:
        return None
    start: dt.datetime = last["starts_at"]
    day = on or (start.date() + dt.timedelta(days=7))
    return {
        "fields": {
            "starts_at": dt.datetime.combine(day, start.time()),
            **{k: last[k] for k in FIELDS if k not in ("starts_at", "notes")},
            "notes": None,
        },
        "attendees": [a["participant_id"] for a in last["attendees"] if a["status"] != "absent"],
    }


def list_sessions(
    ws,
    *,
    intervention_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    state: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    query = _session_query(intervention_id, since, until, state)
    query = query.order_by(Session.starts_at.desc()).offset(offset).limit(limit)
    with ws.read() as session:
        names = dict(session.execute(select(Intervention.id, Intervention.name)).all())
        counts = dict(
            session.execute(
                select(Attendance.session_id, func.count())
                .where(Attendance.session_id.in_(query.with_only_columns(Session.id)))
                .group_by(Attendance.session_id)
            ).all()
        )
        return [
            {
                "id": s.id,
                "intervention_id": s.intervention_id,
                "intervention": names.get(s.intervention_id, ""),
                "starts_at": s.starts_at,
                "duration_minutes": s.duration_minutes,
                "session_type": s.session_type,
                "status": s.status,
                "sync_state": s.sync_state,
                "attendees": counts.get(s.id, 0),
                "problems": len(s.findings or []),
            }
            for s in session.scalars(query)
        ]


def count_sessions(
    ws,
    *,
    intervention_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    state: str | None = None,
) -> int:
    query = _session_query(intervention_id, since, until, state)
    with ws.read() as session:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _session_query(intervention_id, since, until, state):
    query = select(Session)
    if intervention_id:
        query = query.where(Session.intervention_id == intervention_id)
    if since:
        query = query.where(Session.starts_at >= since)
    if until:
        query = query.where(Session.starts_at < until)
    if state:
        query = query.where(Session.sync_state == state)
    return query
