"""Numbers for the Today page: sessions per week, people reached, records needing attention.

All counts are SQL aggregates over the store, so the dashboard stays quick with 100k
participants. A session counts when it was delivered (planned and cancelled ones do not); a
person is "reached" when they were present (attended, late or left early) at a delivered
session in the period. Quarters are UK financial quarters: Q1 is April to June.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from vrp_desktop.services import quality
from vrp_desktop.services.common import today as _today
from vrp_desktop.store.models import (
    AttendanceByStart,
    Enrolment,
    OutcomeResponse,
    Participant,
    Session,
)
from vrp_desktop.store.portable import present_statuses

UNKNOWN = "not_known"


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def uk_quarter(day: dt.date) -> tuple[dt.date, dt.date, str]:
    """(first day, first day of the next quarter, label like "Q1 2025-26") for ``day``."""
    fiscal_year = day.year if day.month >= 4 else day.year - 1
    index = ((day.month - 4) % 12) // 3  # 0..3
    start_month = 4 + 3 * index
    start = dt.date(fiscal_year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    end_month = start_month + 3
    end = dt.date(fiscal_year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    label = f"Q{index + 1} {fiscal_year}-{(fiscal_year + 1) % 100:02d}"
    return start, end, label


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def count_delivered(ws, start: dt.date, end: dt.date) -> int:
    """Delivered sessions starting on or after ``start`` and before ``end``."""
    with ws.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Session)
                .where(
                    Session.status == "delivered",
                    Session.starts_at >= _midnight(start),
                    Session.starts_at < _midnight(end),
                )
            )
            or 0
        )


def sessions_per_week(
    ws, *, weeks: int = 12, today: dt.date | None = None
) -> list[tuple[dt.date, int]]:
    """(Monday, delivered sessions that week) for the last ``weeks`` weeks, oldest first,
    the current week last; weeks without sessions are included with 0."""
    first = week_start(today or _today()) - dt.timedelta(weeks=weeks - 1)
    end = first + dt.timedelta(weeks=weeks)
    day = func.date(Session.starts_at)
    with ws.read() as session:
        rows = session.execute(
            select(day, func.count())
            .where(
                Session.status == "delivered",
                Session.starts_at >= _midnight(first),
                Session.starts_at < _midnight(end),
            )
            .group_by(day)
        ).all()
    counts = {first + dt.timedelta(weeks=i): 0 for i in range(weeks)}
    for day_text, n in rows:
        counts[week_start(dt.date.fromisoformat(str(day_text)))] += n
    return sorted(counts.items())


def _present_ids(start: dt.date, end: dt.date):
    """Ids of people present at a delivered session in [start, end), off one range of the
    register copy keyed by session start (``attendance_by_start``, which carries each row's
    session status): a quarter's attendances joined to their sessions were scattered through
    the file, 4.5 s for the Today page at 100k people / 1M sessions."""
    r = AttendanceByStart
    return select(r.participant_id).where(
        r.starts_at >= _midnight(start),
        r.starts_at < _midnight(end),
        r.session_status == "delivered",
        r.status.in_(present_statuses()),
    )


def _reached(start: dt.date, end: dt.date):
    """Participants present at a delivered session in [start, end), not erased: each person
    looked up once (``IN``), not once per attendance (a join made 100k-person quarters slow)."""
    return select(Participant.id).where(
        Participant.id.in_(_present_ids(start, end)), Participant.erased_at.is_(None)
    )


def people_reached(ws, start: dt.date, end: dt.date) -> int:
    """How many different people were present at a delivered session in [start, end)."""
    query = _reached(start, end).with_only_columns(func.count())
    with ws.read() as session:
        return session.scalar(query) or 0


def reach_by_age_gender(ws, start: dt.date, end: dt.date) -> dict[tuple[str, str], int]:
    """{(age band, gender code): people} reached in [start, end); unknowns as "not_known".

    Each person is in exactly one group, so the values add up to ``people_reached``."""
    query = (
        _reached(start, end)
        .with_only_columns(Participant.age_band, Participant.gender, func.count())
        .group_by(Participant.age_band, Participant.gender)
    )
    result: dict[tuple[str, str], int] = {}
    with ws.read() as session:
        for band, gender, n in session.execute(query):
            key = (band or UNKNOWN, gender or UNKNOWN)
            result[key] = result.get(key, 0) + n
    return result


def attention_items(ws, *, limit: int = 100) -> list[dict[str, Any]]:
    """Records needing attention with a short label and where to fix them.

    Each item: entity, id, page (the page that fixes it), record_id (what that page opens),
    label (a reference or a date, never more identity than the participant page shows) and
    message (the first finding).
    """
    items = quality.needing_attention(ws, limit=limit)
    with ws.read() as session:
        for item in items:
            entity, rid = item["entity"], item["id"]
            item["page"], item["record_id"], item["label"] = _where(session, entity, rid)
            first = item["findings"][0] if item["findings"] else {}
            problems = len(item["findings"])
            message = first.get("message", "needs checking")
            more = f" (+{problems - 1} more)" if problems > 1 else ""
            item["message"] = f"{message}{more}"
    return items


def _where(session, entity: str, rid: str) -> tuple[str, str, str]:
    if entity == "participant":
        p = session.get(Participant, rid)
        return "participants", rid, f"Participant {p.reference}" if p else "Participant"
    if entity == "enrolment":
        e = session.get(Enrolment, rid)
        p = session.get(Participant, e.participant_id) if e else None
        pid = e.participant_id if e else ""
        return "participants", pid, f"Enrolment of {p.reference}" if p else "Enrolment"
    if entity == "session":
        s = session.get(Session, rid)
        when = f" on {s.starts_at:%a %d %b %Y}" if s else ""
        return "sessions", rid, f"Session{when}"
    if entity == "outcome_response":
        r = session.get(OutcomeResponse, rid)
        p = session.get(Participant, r.participant_id) if r else None
        label = f"Questionnaire for {p.reference}" if p else "Questionnaire"
        return "outcomes", rid, label
    return "settings", rid, entity.replace("_", " ").capitalize()


def summary(ws, *, today: dt.date | None = None, weeks: int = 12) -> dict[str, Any]:
    """Everything the Today page shows, in one store call."""
    day = today or _today()
    monday = week_start(day)
    q_start, q_end, q_label = uk_quarter(day)
    counts = quality.attention_counts(ws)
    reach = reach_by_age_gender(ws, q_start, q_end)
    with ws.read() as session:
        total_sessions = session.scalar(select(func.count()).select_from(Session)) or 0
    return {
        "today": day,
        # a coordinator logs no sessions of its own: its empty state points to the Inbox
        "kind": ws.kind,
        "week_start": monday,
        "sessions_this_week": count_delivered(ws, monday, monday + dt.timedelta(days=7)),
        "quarter": (q_start, q_end, q_label),
        "reached_this_quarter": sum(reach.values()),  # one pass over the quarter, not two
        "reach_by_age_gender": reach,
        "sessions_per_week": sessions_per_week(ws, weeks=weeks, today=day),
        "attention_total": sum(n for kind, n in counts.items() if kind != "attendance"),
        "attention": attention_items(ws),
        "sessions_total": total_sessions,
    }
