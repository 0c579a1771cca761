"""Outcome questionnaires: answers stored with the scores computed at the time and the
scoring version, so a later scoring change never silently rewrites history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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


def _anchor(enrolment: Mapping[str, Any], anchor: str) -> dt.date | None:
    value = enrolment.get(anchor)
    if isinstance(value, str):
        value = parse_date(value, anchor)
    return value if isinstance(value, dt.date) else None


def due_timepoint(
    use: Any, enrolment: Mapping[str, Any], done: Iterable[str], on: dt.date
) -> str | None:
    """The timepoint a questionnaire taken on ``on`` is most likely for, or None.

    ``use`` is the framework's measure use (its timepoint windows, in order); ``done`` the
    timepoints already recorded for this enrolment. In order of preference: exit once the
    enrolment has ended or today falls in the exit window; baseline if none yet; a window that
    is open today; then the next window still to come; else exit (the last one left).
    """
    windows = [w for w in use.timepoints if w.timepoint not in set(done)]
    if not windows:
        return None

    def offset(w: Any) -> int | None:
        anchor = _anchor(enrolment, w.anchor)
        return None if anchor is None else (on - anchor).days

    exits = [w for w in windows if w.timepoint == "exit"]
    if exits and _anchor(enrolment, exits[0].anchor) is not None:
        return "exit"  # the enrolment has ended (or its end is recorded): the exit is due
    if any(w.timepoint == "baseline" for w in windows):
        return "baseline"
    for w in windows:
        days = offset(w)
        if days is not None and days in w.window_days:
            return w.timepoint
    for w in windows:
        days = offset(w)
        if days is not None and days < w.window_days.min:
            return w.timepoint
    return exits[0].timepoint if exits else windows[0].timepoint


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


def correct_response(
    ws,
    response_id: str,
    answers: Sequence[int | None],
    *,
    timepoint: str | None = None,
    completed_on: dt.date | str | None = None,
    warning_reason: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Correct a saved questionnaire: a new version with the scores worked out again.

    The VRP may already hold the old version, so the record goes back to "valid" (or "draft"
    if the correction still has errors) and travels in the next batch. One audit event keeps
    the scores before and after; the answers themselves are never written to the audit log.
    """
    ws.require("record")
    with ws.unit() as session:
        r = get_or_404(session, OutcomeResponse, response_id, "questionnaire")
        person = session.get(Participant, r.participant_id)
        if person is None or person.erased_at is not None:
            raise VrpError("This participant's data was erased.")
        measure = fw_service.measure(r.measure_id)
        if len(answers) != len(measure.items):
            raise VrpError(
                f"{measure.name} has {len(measure.items)} questions but {len(answers)} answers "
                "were given. Answer each question (or mark it missing) and save again."
            )
        try:
            result = score(measure, list(answers))
        except ValueError as exc:
            raise VrpError(str(exc)) from None
        before = {k: getattr(r, k) for k in _AUDITED}
        r.answers = list(answers)
        if timepoint:
            r.timepoint = timepoint
        if completed_on:
            r.completed_on = parse_date(completed_on, "completed_on") or r.completed_on
        r.scores = dict(result.scores)
        r.bands = dict(result.bands)
        r.scoring_version = result.scoring_version
        bump(r)
        enrolment = session.get(Enrolment, r.enrolment_id) if r.enrolment_id else None
        if enrolment is None:
            r.sync_state = "valid"  # nothing to check against: send the correction as it is
        validate(session, r, enrolment, warning_reason)
        session.flush()
        audit.append(
            session,
            ws.user.username,
            "response.correct",
            "outcome_response",
            r.id,
            before=before,
            after={k: getattr(r, k) for k in _AUDITED},
            reason=reason.strip() if reason and reason.strip() else None,
        )
        return to_dict(r)
