"""Re-validating stored records and listing what needs attention."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vrp_desktop.store.models import SHAREABLE


def attention_counts(ws) -> dict[str, int]:
    """Records saved with errors or unexplained warnings (sync state ``draft``), per kind."""
    counts: dict[str, int] = {}
    with ws.read() as session:
        for name, model in SHAREABLE.items():
            counts[name] = (
                session.scalar(
                    select(func.count()).select_from(model).where(model.sync_state == "draft")
                )
                or 0
            )
    return counts


def needing_attention(ws, *, limit: int = 200) -> list[dict[str, Any]]:
    """The records to fix, newest first, each with its findings."""
    items: list[dict[str, Any]] = []
    with ws.read() as session:
        for name, model in SHAREABLE.items():
            if name == "attendance":
                continue  # an attendance is fixed through its session
            rows = session.scalars(
                select(model)
                .where(model.sync_state == "draft")
                .order_by(model.updated_at.desc())
                .limit(limit)
            )
            for row in rows:
                items.append(
                    {
                        "entity": name,
                        "id": row.id,
                        "findings": list(row.findings or []),
                        "updated_at": row.updated_at,
                    }
                )
    items.sort(key=lambda item: item["updated_at"], reverse=True)
    return items[:limit]


def state_counts(ws) -> dict[str, dict[str, int]]:
    with ws.read() as session:
        return {
            name: dict(
                session.execute(
                    select(model.sync_state, func.count()).group_by(model.sync_state)
                ).all()
            )
            for name, model in SHAREABLE.items()
        }


def revalidate_all(ws) -> dict[str, int]:
    """Re-run validation on every unsent record (ages and windows move with time)."""
    from vrp_desktop.services import enrolments, outcomes, participants, sessions
    from vrp_desktop.services.common import settle, today
    from vrp_desktop.store.models import Enrolment, OutcomeResponse, Participant, Session
    from vrp_desktop.validation.engine import validate_participant

    checked = {"participant": 0, "enrolment": 0, "session": 0, "outcome_response": 0}
    open_states = ("draft", "valid")
    with ws.unit() as session:
        for p in session.scalars(
            select(Participant).where(
                Participant.sync_state.in_(open_states), Participant.erased_at.is_(None)
            )
        ):
            settle(p, validate_participant(participants.as_record(p), today=today()), None)
            checked["participant"] += 1
        for e in session.scalars(select(Enrolment).where(Enrolment.sync_state.in_(open_states))):
            enrolments._validate(session, e, None)
            checked["enrolment"] += 1
        for s in session.scalars(select(Session).where(Session.sync_state.in_(open_states))):
            sessions._validate(session, s, None)
            checked["session"] += 1
        for r in session.scalars(
            select(OutcomeResponse).where(OutcomeResponse.sync_state.in_(open_states))
        ):
            e = session.get(Enrolment, r.enrolment_id) if r.enrolment_id else None
            outcomes.validate(session, r, e, None)
            checked["outcome_response"] += 1
    return checked
