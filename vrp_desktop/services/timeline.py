"""A participant's story in date order: enrolments, sessions attended and questionnaires.

The participant page shows this; it is read-only and gathers everything in one read so the
page opens in one round trip to the store thread.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from vrp_desktop import codes
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.participants import display_name
from vrp_desktop.store.models import (
    Attendance,
    Enrolment,
    Intervention,
    OutcomeResponse,
    Participant,
    Session,
)


def _measure_name(measure_id: str) -> str:
    try:
        return fw_service.measure(measure_id).name
    except Exception:  # an unknown measure id still shows, by its code
        return measure_id


def _score_summary(measure_id: str, scores: dict[str, Any]) -> str:
    try:
        label = fw_service.measure(measure_id).score_label
    except Exception:  # an unknown measure shows its score ids
        label = str
    parts = []
    for score_id, value in scores.items():
        if value is not None:
            try:
                parts.append(f"{label(score_id)} {value:g}")
            except KeyError:
                parts.append(f"{score_id} {value:g}")
    return ", ".join(parts)


def _code_labels(session, intervention_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """Referral-source and exit-reason labels of an intervention's framework."""
    intervention = session.get(Intervention, intervention_id)
    if intervention is None:
        return {}, {}
    fw = fw_service.get(session, intervention.framework_id, intervention.framework_version)
    return fw.code_map("referral_sources"), fw.code_map("exit_reasons")


def _as_datetime(value: dt.date | dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.min
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def timeline(ws, participant_id: str) -> list[dict[str, Any]]:
    """Entries oldest first: ``{kind, when, title, detail, record_id, sync_state}``.

    ``kind`` is "enrolment", "exit", "session" or "questionnaire"; ``when`` is a date or a
    datetime. Sessions are those the person is on the register of, with their attendance status.
    """
    entries: list[dict[str, Any]] = []
    with ws.read() as session:
        names = dict(session.execute(select(Intervention.id, Intervention.name)).all())
        for e in session.scalars(
            select(Enrolment).where(Enrolment.participant_id == participant_id)
        ):
            name = names.get(e.intervention_id, "an intervention")
            sources, reasons = _code_labels(session, e.intervention_id)
            source = sources.get(e.referral_source or "", e.referral_source or "not given")
            reason = reasons.get(e.exit_reason or "", e.exit_reason or "not given")
            if e.start_date is not None:
                entries.append(
                    {
                        "kind": "enrolment",
                        "when": e.start_date,
                        "title": f"Started {name}",
                        "detail": f"Referred by: {source}",
                        "record_id": e.id,
                        "sync_state": e.sync_state,
                    }
                )
            if e.end_date is not None:
                entries.append(
                    {
                        "kind": "exit",
                        "when": e.end_date,
                        "title": f"Left {name}",
                        "detail": f"Why: {reason}",
                        "record_id": e.id,
                        "sync_state": e.sync_state,
                    }
                )
        rows = session.execute(
            select(Session, Attendance.status)
            .join(Attendance, Attendance.session_id == Session.id)
            .where(Attendance.participant_id == participant_id)
        ).all()
        for s, status in rows:
            kind = codes.SESSION_TYPES.get(s.session_type, s.session_type)
            entries.append(
                {
                    "kind": "session",
                    "when": s.starts_at,
                    "title": f"{kind} session, {names.get(s.intervention_id, '')}".strip(", "),
                    "detail": codes.ATTENDANCE_STATUSES.get(status, status),
                    "record_id": s.id,
                    "sync_state": s.sync_state,
                }
            )
        for r in session.scalars(
            select(OutcomeResponse).where(OutcomeResponse.participant_id == participant_id)
        ):
            timepoint = codes.TIMEPOINTS.get(r.timepoint, r.timepoint)
            scored = _score_summary(r.measure_id, r.scores or {})
            entries.append(
                {
                    "kind": "questionnaire",
                    "when": r.completed_on,
                    "title": f"{_measure_name(r.measure_id)}: {timepoint.lower()}",
                    "detail": scored,
                    "record_id": r.id,
                    "sync_state": r.sync_state,
                }
            )
    entries.sort(key=lambda entry: (_as_datetime(entry["when"]), entry["kind"]))
    return entries


def recent_responses(ws, *, limit: int = 50) -> list[dict[str, Any]]:
    """The most recently completed questionnaires, newest first, for the outcomes page."""
    with ws.read() as session:
        rows = session.execute(
            select(OutcomeResponse, Participant)
            .join(Participant, Participant.id == OutcomeResponse.participant_id)
            .order_by(OutcomeResponse.completed_on.desc(), OutcomeResponse.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": r.id,
                "participant_id": p.id,
                "participant": display_name(p),
                "reference": p.reference,
                "measure_id": r.measure_id,
                "measure": _measure_name(r.measure_id),
                "timepoint": r.timepoint,
                "completed_on": r.completed_on,
                "scores": dict(r.scores or {}),
                "sync_state": r.sync_state,
            }
            for r, p in rows
        ]


def response_detail(ws, response_id: str) -> dict[str, Any]:
    """One saved questionnaire with the participant it belongs to (to reopen it for viewing)."""
    from vrp_desktop.services.common import get_or_404
    from vrp_desktop.services.outcomes import to_dict

    with ws.read() as session:
        r = get_or_404(session, OutcomeResponse, response_id, "questionnaire")
        p = session.get(Participant, r.participant_id)
        return {**to_dict(r), "participant": display_name(p), "reference": p.reference}


def open_target(ws, record_id: str) -> dict[str, Any]:
    """What an id handed to the outcomes page is: a saved questionnaire or a participant.

    ``{"kind": "questionnaire", "response": {...}, "participant_id": ...}`` or
    ``{"kind": "participant", "participant_id": ...}``; raises ``NotFound`` for neither.
    """
    from vrp_desktop.errors import NotFound

    with ws.read() as session:
        found = session.get(OutcomeResponse, record_id) is not None
        person = session.get(Participant, record_id) is not None
    if found:
        r = response_detail(ws, record_id)
        return {"kind": "questionnaire", "response": r, "participant_id": r["participant_id"]}
    if person:
        return {"kind": "participant", "participant_id": record_id}
    raise NotFound(f"No questionnaire or participant with id {record_id}: it may have been erased.")
