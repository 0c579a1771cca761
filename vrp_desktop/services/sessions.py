"""Sessions (1:1, group, outreach) and their registers of attendance.

A session and its whole register are saved in one transaction with one audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case, func, select
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
from vrp_desktop.store.models import (
    Attendance,
    Enrolment,
    Intervention,
    Participant,
    Session,
    Tombstone,
)
from vrp_desktop.validation.engine import AttendeeContext, validate_session
from vrp_desktop.validation.findings import Finding, warning

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

    Double-booking is found from the other side: the few delivered sessions that overlap in
    time, and which of our attendees were at them. SQLite starts from whichever is narrower,
    the attendees' own register rows or the day's sessions (``ix_session_return`` leads with
    the start time): 5 ms at 100k people / 1M sessions.
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
    findings += duplicate_findings(
        _duplicates(
            session,
            s.intervention_id,
            s.starts_at,
            s.duration_minutes,
            [a.participant_id for a in s.attendances if a.status in codes.PRESENT_STATUSES],
            exclude_id=s.id,
        )
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
                .where(
                    Attendance.session_id.in_(query.with_only_columns(Session.id)),
                    Attendance.status.in_(sorted(codes.PRESENT_STATUSES)),
                )
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


# -- duplicates -------------------------------------------------------------------------------


def _duplicates(
    session: OrmSession,
    intervention_id: str,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    participant_ids: Sequence[str],
    *,
    exclude_id: str | None = None,
) -> list[dict[str, Any]]:
    """Sessions of the same intervention at an overlapping time with the same people.

    "The same people": the two registers share someone present, or neither has anyone present
    (a session logged twice before its register was filled in). Cancelled sessions never count.
    """
    if starts_at is None or not intervention_id:
        return []
    ends = starts_at + dt.timedelta(minutes=duration_minutes or 0)
    query = select(Session).where(
        Session.intervention_id == intervention_id,
        Session.starts_at >= starts_at - dt.timedelta(hours=24),
        Session.starts_at <= ends,
        Session.status != "cancelled",
    )
    if exclude_id:
        query = query.where(Session.id != exclude_id)
    wanted = set(participant_ids)
    found = []
    for other in session.scalars(query):
        present = {
            a.participant_id for a in other.attendances if a.status in codes.PRESENT_STATUSES
        }
        if same_session(
            (starts_at, duration_minutes, wanted),
            (other.starts_at, other.duration_minutes, present),
        ):
            shared = wanted & present
            found.append(
                {
                    "id": other.id,
                    "starts_at": other.starts_at,
                    "duration_minutes": other.duration_minutes,
                    "present": len(present),
                    "shared": len(shared),
                }
            )
    return found


Occasion = tuple[dt.datetime, int | None, set[str]]  # start, minutes, who was present


def same_session(one: Occasion, other: Occasion) -> bool:
    """The duplicate rule (same intervention assumed): the same start, or overlapping times,
    and a shared person present, or nobody present on either (a register not filled in)."""
    start, minutes, wanted = one
    other_start, other_minutes, present = other
    ends = start + dt.timedelta(minutes=minutes or 0)
    other_end = other_start + dt.timedelta(minutes=other_minutes or 0)
    if not (other_start == start or (other_start < ends and other_end > start)):
        return False
    return bool(wanted & present) or (not wanted and not present)


def duplicates_in(
    session: OrmSession,
    intervention_id: str,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    participant_ids: Sequence[str],
) -> list[dict[str, Any]]:
    """The form's duplicate check inside a caller's transaction (the spreadsheet importer)."""
    return _duplicates(session, intervention_id, starts_at, duration_minutes, participant_ids)


def find_duplicates(
    ws,
    intervention_id: str,
    starts_at: dt.datetime | None,
    duration_minutes: int | None,
    participant_ids: Sequence[str],
    *,
    exclude_id: str | None = None,
) -> list[dict[str, Any]]:
    """What the form checks before saving: sessions this one would duplicate."""
    with ws.read() as session:
        return _duplicates(
            session,
            intervention_id,
            starts_at,
            duration_minutes,
            participant_ids,
            exclude_id=exclude_id,
        )


def duplicate_findings(duplicates: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """One warning per session this one looks like a copy of (a reason is needed to keep both)."""
    findings = []
    for d in duplicates:
        when = d["starts_at"].strftime("%a %d/%m/%Y %H:%M")
        who = (
            f"{d['shared']} of the same young people"
            if d["shared"]
            else "no one marked as attending yet"
        )
        findings.append(
            warning(
                "starts_at",
                f"This looks like a session already logged: {when}, same intervention, with "
                f"{who}. Go back and open that one, or say why both are needed.",
                "duplicate_session",
            )
        )
    return findings


# -- deleting ---------------------------------------------------------------------------------


def delete_session(ws, session_id: str, *, reason: str) -> None:
    """Delete a session logged in error (a duplicate, the wrong group). Its register goes with
    it; a tombstone tells the VRP to drop its copy; the reason stays in the local audit log."""
    ws.require("record")
    if not reason or not reason.strip():
        raise VrpError("Give a reason for deleting the session (it is kept in the audit log).")
    with ws.unit() as session:
        s = get_or_404(session, Session, session_id, "session")
        before = {**snapshot(s, _AUDITED), "attendees": len(s.attendances)}
        bump(s)
        session.add(
            Tombstone(entity="session", entity_id=s.id, version=s.version, reason="deleted")
        )
        audit.append(
            session,
            ws.user.username,
            "session.delete",
            "session",
            s.id,
            before=before,
            reason=reason.strip(),
        )
        session.delete(s)


# -- the register: who is on it ---------------------------------------------------------------


def _age(dob: dt.date | None, day: dt.date) -> int | None:
    if dob is None or day < dob:
        return None
    return codes.age_on(dob, day)


def _person(p: Participant, day: dt.date, spans: list[tuple[str, Any, Any]], iid: str | None):
    from vrp_desktop.services.participants import display_name

    enrolled = any(
        i == iid and start is not None and start <= day and (end is None or end >= day)
        for i, start, end in spans
    )
    return {
        "id": p.id,
        "reference": p.reference,
        "name": display_name(p),
        "age": _age(p.date_of_birth, day),
        "spans": spans,
        "enrolled": enrolled,
    }


def people_on_register(
    ws, ids: Sequence[str], intervention_id: str | None, day: dt.date
) -> list[dict[str, Any]]:
    """Name, reference, age on ``day`` and enrolment spans of the given people (erased people
    left out), in the order given."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    with ws.read() as session:
        people = {
            p.id: p
            for p in session.scalars(
                select(Participant).where(Participant.id.in_(ids), Participant.erased_at.is_(None))
            )
        }
        spans: dict[str, list[tuple[str, Any, Any]]] = {}
        for e in session.scalars(select(Enrolment).where(Enrolment.participant_id.in_(ids))):
            spans.setdefault(e.participant_id, []).append(
                (e.intervention_id, e.start_date, e.end_date)
            )
        return [
            _person(people[i], day, spans.get(i, []), intervention_id) for i in ids if i in people
        ]


def roster(
    ws, intervention_id: str, day: dt.date, *, include: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A group's register: everyone enrolled in the intervention on ``day`` (enrolment started
    on or before it, not ended before it), by name; then anyone in ``include`` (the people
    already on a saved register) who is not."""
    with ws.read() as session:
        enrolled = list(
            session.scalars(
                select(Enrolment.participant_id)
                .join(Participant, Participant.id == Enrolment.participant_id)
                .where(
                    Enrolment.intervention_id == intervention_id,
                    Enrolment.start_date <= day,
                    (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= day),
                    Participant.erased_at.is_(None),
                )
                .order_by(
                    func.lower(func.coalesce(Participant.preferred_name, Participant.first_name)),
                    func.lower(Participant.last_name),
                    Participant.id,
                )
            )
        )
    return people_on_register(ws, [*enrolled, *include], intervention_id, day)


# -- what the form starts from ----------------------------------------------------------------


def last_occurrence(
    last_start: dt.datetime,
    at: dt.datetime,
    *,
    weekday: int | None = None,
    time: dt.time | None = None,
) -> dt.datetime:
    """The latest run of a weekly session on or before ``at`` (never a future time).

    With the intervention's usual weekday and time: the last such weekday at that time. Without
    them: a whole number of weeks after the last session; within a week of it, today (or
    yesterday, if today's time has not come yet) at the last session's time.
    """
    time = time or last_start.time()
    if weekday is not None:
        day = at.date() - dt.timedelta(days=(at.weekday() - weekday) % 7)
        when = dt.datetime.combine(day, time)
        return when if when <= at else when - dt.timedelta(weeks=1)
    weeks = (at - last_start).days // 7
    if weeks >= 1:
        return last_start + dt.timedelta(weeks=weeks)
    when = dt.datetime.combine(at.date(), time)
    return when if when <= at else when - dt.timedelta(days=1)


def _usual_time(intervention: Mapping[str, Any]) -> dt.time | None:
    text = intervention.get("usual_time")
    if not text:
        return None
    try:
        return dt.time.fromisoformat(str(text))
    except ValueError:
        return None


def form_setup(ws, intervention_id: str) -> dict[str, Any]:
    """Everything the session form needs when an intervention is chosen, in one read: the
    framework, the intervention's usual values (CONTRACT keys, any of which may be missing),
    and its last session's fields."""
    from vrp_desktop.services import interventions

    intervention = interventions.get_intervention(ws, intervention_id)
    framework = interventions.framework_for(ws, intervention_id)
    last = last_session(ws, intervention_id)
    usual = {
        "session_type": intervention.get("delivery"),
        "mode": intervention.get("usual_mode"),
        "location_type": intervention.get("usual_location_type"),
        "duration_minutes": intervention.get("usual_minutes"),
    }
    defaults = {}
    for key, value in usual.items():
        defaults[key] = value if value else (last or {}).get(key)
    if not defaults["session_type"] and len(framework.session_types) == 1:
        defaults["session_type"] = framework.session_types[0]
    return {
        "intervention": intervention,
        "framework": framework,
        "defaults": defaults,
        "usual_weekday": intervention.get("usual_weekday"),
        "usual_time": _usual_time(intervention),
        "has_last": last is not None,
    }


def propose_repeat(ws, intervention_id: str, at: dt.datetime | None = None) -> dict | None:
    """'Repeat last session': its fields at the last occurrence on or before ``at`` (now), with
    the register of everyone enrolled on that date, ticked (and anyone who came last time)."""
    from vrp_desktop.services import interventions

    at = (at or now()).replace(second=0, microsecond=0)
    last = last_session(ws, intervention_id)
    if last is None:
        return None
    intervention = interventions.get_intervention(ws, intervention_id)
    weekday = intervention.get("usual_weekday")
    when = last_occurrence(
        last["starts_at"],
        at,
        weekday=weekday if isinstance(weekday, int) else None,
        time=_usual_time(intervention),
    )
    came = [a["participant_id"] for a in last["attendees"] if a["status"] != "absent"]
    people = roster(ws, intervention_id, when.date(), include=came)
    for person in people:
        # a weekly group mostly comes: everyone enrolled starts ticked, the worker unticks who
        # didn't; someone who came last time but is not enrolled now is listed, unticked
        person["ticked"] = person["enrolled"]
    return {
        "fields": {
            "starts_at": when,
            **{k: last[k] for k in FIELDS if k not in ("starts_at", "notes", "status")},
            "status": "delivered",
            "notes": None,
        },
        "people": people,
        "last_starts_at": last["starts_at"],
    }


def attendance_rates(
    ws, since: dt.date, until: dt.date, *, intervention_id: str | None = None
) -> dict[str, Any]:
    """Of every register row of the delivered sessions from ``since`` up to (not including)
    ``until``, how many were there (attended, late or left early): absences are rows too, so
    this is a real attendance rate. ``rate`` is None when there is no register yet."""
    lo = dt.datetime.combine(since, dt.time())
    hi = dt.datetime.combine(until, dt.time())
    present = func.sum(case((Attendance.status.in_(sorted(codes.PRESENT_STATUSES)), 1), else_=0))
    query = (
        select(func.count(), present)
        .select_from(Attendance)
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.status == "delivered", Session.starts_at >= lo, Session.starts_at < hi)
    )
    if intervention_id:
        query = query.where(Session.intervention_id == intervention_id)
    with ws.read() as session:
        rows, there = session.execute(query).one()
    rows, there = int(rows or 0), int(there or 0)
    return {"present": there, "rows": rows, "rate": there / rows if rows else None}
