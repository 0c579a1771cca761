"""Outcome questionnaires: answers stored with the scores computed at the time and the
scoring version, so a later scoring change never silently rewrites history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from vrp_desktop.errors import VrpError
from vrp_desktop.measures.scoring import score
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import bump, get_or_404, parse_date, settle, sync_fields, today
from vrp_desktop.services.enrolments import as_record as enrolment_record
from vrp_desktop.store.models import Enrolment, Intervention, OutcomeResponse, Participant
from vrp_desktop.validation.engine import validate_response

_AUDITED = ("measure_id", "timepoint", "completed_on", "scores", "enrolment_id")


def as_record(r: OutcomeResponse) -> dict[str, Any]:
    return {
        "id": r.id,
        "participant_id": r.participant_id,
        "enrolment_id": r.enrolment_id,
        "measure_id": r.measure_id,
        "timepoint": r.timepoint,
        "completed_on": r.completed_on,
        "answers": list(r.answers or []),
    }


def to_dict(r: OutcomeResponse) -> dict[str, Any]:
    return {
        **as_record(r),
        "scores": dict(r.scores or {}),
        "bands": dict(r.bands or {}),
        "scoring_version": r.scoring_version,
        **sync_fields(r),
    }


def _pick_enrolment(session, participant_id: str, measure_id: str) -> Enrolment | None:
    """The participant's most recent enrolment whose framework uses this measure."""
    rows = session.scalars(
        select(Enrolment)
        .where(Enrolment.participant_id == participant_id)
        .order_by(Enrolment.start_date.desc())
    ).all()
    for e in rows:
        i = session.get(Intervention, e.intervention_id)
        framework = fw_service.get(session, i.framework_id, i.framework_version)
        if any(m.measure_id == measure_id for m in framework.measures):
            return e
    return None


def validate(
    session, r: OutcomeResponse, enrolment: Enrolment | None, warning_reason: str | None
) -> None:
    """Check a questionnaire against its enrolment's framework and store what was found.

    Without an enrolment there is no framework to check the timepoint against, so the stored
    findings are left as they are."""
    if enrolment is None:
        return
    intervention = session.get(Intervention, enrolment.intervention_id)
    framework = fw_service.get(session, intervention.framework_id, intervention.framework_version)
    findings = validate_response(
        as_record(r),
        measure=fw_service.measure(r.measure_id),
        framework=framework,
        enrolment=enrolment_record(enrolment),
        today=today(),
    )
    settle(r, findings, warning_reason)


def preview_scores(measure_id: str, answers: Sequence[int | None]) -> dict[str, Any]:
    """Scores for answers typed so far (the live panel); never raises for missing items."""
    measure = fw_service.measure(measure_id)
    result = score(measure, answers)
    return {
        "scores": result.scores,
        "bands": result.bands,
        "notes": result.notes,
        "missing_items": result.missing_items,
        "scoring_version": result.scoring_version,
    }


def record_response(
    ws,
    participant_id: str,
    measure_id: str,
    timepoint: str,
    answers: Sequence[int | None],
    *,
    completed_on: dt.date | str | None = None,
    enrolment_id: str | None = None,
    warning_reason: str | None = None,
) -> dict[str, Any]:
    ws.require("record")
    measure = fw_service.measure(measure_id)
    try:
        result = score(measure, list(answers))
    except ValueError as exc:
        raise VrpError(str(exc)) from None
    on = parse_date(completed_on, "completed_on") or today()
    with ws.unit() as session:
        person = get_or_404(session, Participant, participant_id, "participant")
        if person.erased_at is not None:
            raise VrpError("This participant's data was erased.")
        enrolment = (
            get_or_404(session, Enrolment, enrolment_id, "enrolment")
            if enrolment_id
            else _pick_enrolment(session, participant_id, measure_id)
        )
        if enrolment is None:
            raise VrpError(
                f"{person.reference} has no enrolment in an intervention that uses {measure.name}."
                " Enrol them first."
            )
        r = OutcomeResponse(
            participant_id=participant_id,
            enrolment_id=enrolment.id,
            measure_id=measure_id,
            timepoint=timepoint,
            completed_on=on,
            answers=list(answers),
            scores=dict(result.scores),
            bands=dict(result.bands),
            scoring_version=result.scoring_version,
            version=1,
        )
        validate(session, r, enrolment, warning_reason)
        session.add(r)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "response.create",
            "outcome_response",
            r.id,
            after={k: getattr(r, k) for k in _AUDITED},
        )
        return to_dict(r)


def responses_for(ws, participant_id: str) -> list[dict[str, Any]]:
    with ws.read() as session:
        rows = session.scalars(
            select(OutcomeResponse)
            .where(OutcomeResponse.participant_id == participant_id)
            .order_by(OutcomeResponse.completed_on)
        )
        return [to_dict(r) for r in rows]


def delete_response(ws, response_id: str, *, reason: str) -> None:
    """Remove a questionnaire entered in error; a tombstone tells the VRP."""
    from vrp_desktop.store.models import Tombstone

    ws.require("record")
    with ws.unit() as session:
        r = get_or_404(session, OutcomeResponse, response_id, "questionnaire")
        bump(r)
        session.add(
            Tombstone(
                entity="outcome_response", entity_id=r.id, version=r.version, reason="deleted"
            )
        )
        audit.append(
            session,
            ws.user.username,
            "response.delete",
            "outcome_response",
            r.id,
            before={k: getattr(r, k) for k in _AUDITED},
            reason=reason,
        )
        session.delete(r)
