"""Where a return's figures come from: a few selectables with agreed column names.

The same aggregation SQL runs over a provider's own tables (``provider_source``) or over the
records a coordinator imported from many providers (``partnership_source``); only this mapping
differs. Columns every source gives:

- ``providers``: id, code, name
- ``interventions``: id, provider_id, name, tier, setting, framework_id
- ``people``: id, provider_id, person_key, age_band, gender, ethnicity, postcode_district,
  consent_status
- ``enrolments``: id, participant_id, intervention_id, referral_source, referral_date,
  start_date, end_date, exit_reason
- ``sessions``: id, intervention_id, starts_at, duration_minutes, session_type, mode,
  location_type, status
- ``attendances``: session_id, participant_id, status
- ``responses``: id, participant_id, enrolment_id, measure_id, timepoint, completed_on, scores

``people``, ``enrolments``, ``sessions`` and ``responses`` may also carry sync_state and either
findings and warning_reason or (sessions) the store's own has_error and has_open_warning; the
data-quality figures that need them are left out when they are absent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    FromClause,
    Integer,
    case,
    cast,
    func,
    literal,
    select,
)

from vrp_desktop import clock
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.store.models import (
    Attendance,
    AttendanceByStart,
    Batch,
    Enrolment,
    Intervention,
    OutcomeResponse,
    Participant,
    Provider,
    Session,
)
from vrp_desktop.store.portable import present_statuses

_QUALITY = ("sync_state", "findings", "warning_reason")


@dataclasses.dataclass(frozen=True)
class Source:
    """The selectables a return reads. ``kind`` is "provider" or "partnership"."""

    kind: str
    providers: FromClause
    interventions: FromClause
    people: FromClause
    enrolments: FromClause
    sessions: FromClause
    attendances: FromClause
    responses: FromClause
    #: the batches whose records the figures include (id, provider, status, created_at, records)
    batches: Callable[[Connection, Quarter], list[dict[str, Any]]]
    #: how the age band was worked out, for the Notes sheet
    age_note: str
    #: (session_id, participant_id) of the attendances whose status is not a present one, read
    #: from a small partial index; when given, the quarter's attendees are found from the
    #: (session_id, participant_id) index alone, without reading the attendance rows
    not_present: FromClause | None = None
    #: (starts_at, session_id, participant_id, status): every register row keyed by its
    #: session's start, so a quarter's rows are one contiguous range; when given, the
    #: attendees and the attendance rate's absences are read from it alone
    register: FromClause | None = None
    #: (participant_id, intervention_id, session_status, status, duration_minutes): every
    #: register line with what the evaluation's dose reads of its session, off one index
    #: leading with the person; when given, the dose is read from it alone (no session look-up
    #: per line)
    dose_lines: FromClause | None = None


def age_band_from_month(birth_month, quarter: Quarter, fallback):
    """SQL for the reporting age band from a ``YYYY-MM`` year and month of birth: whole years
    on the day before the quarter starts, which the month alone settles exactly (the same as
    on the quarter's first day for everyone not born on the 1st of its first month). The
    provider's return and the partnership's use this one definition, so they agree."""
    eve = quarter.start - dt.timedelta(days=1)
    years = (
        literal(eve.year)
        - cast(func.substr(birth_month, 1, 4), Integer)
        - case((cast(func.substr(birth_month, 6, 2), Integer) > eve.month, 1), else_=0)
    )
    band = case(
        (years >= 25, "25+"),
        (years >= 21, "21-24"),
        (years >= 18, "18-20"),
        (years >= 16, "16-17"),
        (years >= 14, "14-15"),
        (years >= 10, "10-13"),
        else_="under 10",
    )
    return case((birth_month.is_(None), fallback), else_=band)


AGE_NOTE = (
    "Age band: age in whole years on the day before the quarter starts, worked out from the "
    "year and month of birth (the only part of a date of birth that leaves a provider's "
    "device), in the provider's return and the partnership return alike; the band recorded "
    "with the record where no date of birth is held."
)


def person_key(pseudonym, participant_id):
    """A person is counted once by pseudonym; without one, by their own record id."""
    return func.coalesce(pseudonym, literal("id:") + participant_id)


#: the sync states of a record that has gone (or is going) to the VRP in a batch
SENT_STATES = ("queued", "sent", "accepted")


def provider_source(quarter: Quarter, *, sent_only: bool = False) -> Source:
    """A provider's own store: everything recorded here, whatever its sync state; or, with
    ``sent_only``, only what went to the VRP in a batch — the records the partnership return
    counts, so the two returns then agree cell for cell."""
    p = Participant

    def sent(model, query):
        return query.where(model.sync_state.in_(SENT_STATES)) if sent_only else query

    people = select(
        p.id,
        select(Provider.id)
        .where(Provider.is_self.is_(True))
        .scalar_subquery()
        .label("provider_id"),
        person_key(p.pseudonym, p.id).label("person_key"),
        age_band_from_month(func.substr(p.date_of_birth, 1, 7), quarter, p.age_band).label(
            "age_band"
        ),
        p.gender,
        p.ethnicity,
        p.postcode_district,
        p.consent_status,
        *(getattr(p, name) for name in _QUALITY),
    ).where(p.erased_at.is_(None))
    people = sent(p, people).subquery("people")
    return Source(
        kind="provider",
        providers=select(Provider.id, Provider.code, Provider.name)
        .where(Provider.is_self.is_(True))
        .subquery("providers"),
        interventions=sent(
            Intervention,
            select(
                Intervention.id,
                Intervention.provider_id,
                Intervention.name,
                Intervention.tier,
                Intervention.setting,
                Intervention.framework_id,
            ),
        ).subquery("interventions"),
        people=people,
        enrolments=sent(
            Enrolment,
            select(
                *(
                    getattr(Enrolment, n)
                    for n in (
                        "id",
                        "participant_id",
                        "intervention_id",
                        "referral_source",
                        "referral_date",
                        "start_date",
                        "end_date",
                        "exit_reason",
                        *_QUALITY,
                    )
                )
            ),
        ).subquery("enrolments"),
        sessions=sent(
            Session,
            select(
                *(
                    getattr(Session, n)
                    for n in (
                        "id",
                        "intervention_id",
                        "starts_at",
                        "duration_minutes",
                        "session_type",
                        "mode",
                        "location_type",
                        "status",
                        # a session's findings as the store already worked them out
                        "sync_state",
                        "has_error",
                        "has_open_warning",
                    )
                )
            ),
        ).subquery("sessions"),
        attendances=select(
            Attendance.session_id, Attendance.participant_id, Attendance.status
        ).subquery("attendances"),
        responses=sent(
            OutcomeResponse,
            select(
                *(
                    getattr(OutcomeResponse, n)
                    for n in (
                        "id",
                        "participant_id",
                        "enrolment_id",
                        "measure_id",
                        "timepoint",
                        "completed_on",
                        "scores",
                        *_QUALITY,
                    )
                )
            ),
        ).subquery("responses"),
        batches=_provider_batches,
        not_present=_not_present(),
        # the copy holds every register row; what was sent is picked out by joining the
        # sent sessions instead
        register=None if sent_only else AttendanceByStart.__table__,
        age_note=AGE_NOTE,
    )


def _not_present() -> FromClause:
    """Attendances whose status is not a present one. The statuses are SQL literals, not bound
    parameters, so SQLite matches the WHERE to ``ix_attendance_not_present`` (a partial index
    holding only these rows) and reads that index alone."""
    return (
        select(Attendance.session_id, Attendance.participant_id)
        .where(Attendance.status.not_in(present_statuses()))
        .subquery("not_present")
    )


def _provider_batches(conn: Connection, quarter: Quarter) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Batch.id, Batch.status, Batch.created_at, Batch.record_count)
        .where(Batch.direction == "out", Batch.period.in_(quarter.stored_labels))
        .order_by(Batch.created_at)
    ).all()
    return [
        {
            "id": r.id,
            "provider": "",
            "status": r.status,
            "created_at": clock.local_naive(r.created_at),  # a cell holds no zone
            "records": r.record_count,
        }
        for r in rows
    ]
