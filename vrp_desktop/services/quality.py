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


def revalidate(session, entity: str, record) -> None:
    """Run the checks the services run on save on one stored record, and ``settle`` it.

    The one place the stored record of each kind is checked again (``revalidate_all``, and
    sending a rejected record again, ``sync.rejected``): the rules are the services' own. A
    warning already explained keeps its reason; a session's register follows its session.
    """
    from vrp_desktop.services import enrolments, interventions, outcomes, participants, sessions
    from vrp_desktop.services import frameworks as fw_service
    from vrp_desktop.services.common import settle, today
    from vrp_desktop.store.models import Enrolment
    from vrp_desktop.validation.engine import validate_participant
    from vrp_desktop.validation.findings import Finding, error

    if entity == "participant":
        settle(record, validate_participant(participants.as_record(record), today=today()), None)
    elif entity == "enrolment":
        enrolments._validate(session, record, None)
    elif entity == "session":
        sessions._validate(session, record, None)
    elif entity == "outcome_response":
        e = session.get(Enrolment, record.enrolment_id) if record.enrolment_id else None
        if e is None:  # no framework to check against: what was found when it was saved
            settle(record, [Finding(**f) for f in record.findings or []], None)
        else:
            outcomes.validate(session, record, e, None)
    elif entity == "intervention":
        framework = fw_service.get(session, record.framework_id, record.framework_version)
        values = {key: getattr(record, key) for key in interventions.FIELDS}
        problems = interventions._problems(framework, values)
        settle(record, [error("", text, "intervention") for text in problems], None)
    else:
        raise ValueError(f"not a record kind that is checked: {entity}")


def revalidate_all(ws) -> dict[str, int]:
    """Re-run validation on every unsent record (ages and windows move with time)."""
    from vrp_desktop.store.models import Enrolment, OutcomeResponse, Participant, Session

    checked = {"participant": 0, "enrolment": 0, "session": 0, "outcome_response": 0}
    open_states = ("draft", "valid")
    with ws.unit() as session:
        for p in session.scalars(
            select(Participant).where(
                Participant.sync_state.in_(open_states), Participant.erased_at.is_(None)
            )
        ):
            revalidate(session, "participant", p)
            checked["participant"] += 1
        for entity, model in (
            ("enrolment", Enrolment),
            ("session", Session),
            ("outcome_response", OutcomeResponse),
        ):
            for record in session.scalars(select(model).where(model.sync_state.in_(open_states))):
                revalidate(session, entity, record)
                checked[entity] += 1
    return checked
