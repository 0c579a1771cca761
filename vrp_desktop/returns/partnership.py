"""The partnership return's source: the records a coordinator imported from providers' batches
(``vrp_desktop/store/sync_models.py``), mapped onto the columns the return's SQL reads.

The coordinator holds no birth dates, only the year and month of birth each provider sent, from
which the age band is worked out exactly as the provider's own return does; every record held
has been accepted, so the data-quality sheet reports completeness only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from vrp_desktop import clock
from vrp_desktop.disclosure import Protection, Rule, protect
from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.returns.quarters import Quarter, display_period
from vrp_desktop.returns.source import AGE_NOTE, Source, age_band_from_month, person_key
from vrp_desktop.store.models import Batch, Provider
from vrp_desktop.store.sync_models import (
    ImportedAttendance,
    ImportedEnrolment,
    ImportedIntervention,
    ImportedParticipant,
    ImportedResponse,
    ImportedSession,
)


def _pick(model, *names: str):
    return select(*(getattr(model, n) for n in names))


def partnership_source(quarter: Quarter, provider_id: str | None = None) -> Source:
    """Every provider's records; or, with ``provider_id``, one provider's records as that
    provider's own return counts them (split by intervention), which is what the provider
    publishes for the period."""
    p = ImportedParticipant

    def only(model, query):
        return query if provider_id is None else query.where(model.provider_id == provider_id)

    providers = select(Provider.id, Provider.code, Provider.name).where(Provider.is_self.is_(False))
    if provider_id is not None:
        providers = providers.where(Provider.id == provider_id)
    return Source(
        kind="partnership" if provider_id is None else "provider",
        providers=providers.subquery("providers"),
        interventions=only(
            ImportedIntervention,
            _pick(
                ImportedIntervention, "id", "provider_id", "name", "tier", "setting", "framework_id"
            ),
        ).subquery("interventions"),
        people=only(
            p,
            select(
                p.id,
                p.provider_id,
                person_key(p.pseudonym, p.id).label("person_key"),
                age_band_from_month(p.birth_month, quarter, p.age_band).label("age_band"),
                p.gender,
                p.ethnicity,
                # a district the partnership's rule coarsened travels as its local authority
                func.coalesce(p.postcode_district, quasi_rule.area_sql(p.local_authority)).label(
                    "postcode_district"
                ),
                p.consent_status,
            ),
        ).subquery("people"),
        enrolments=_pick(
            ImportedEnrolment,
            "id",
            "participant_id",
            "intervention_id",
            "referral_source",
            "referral_date",
            "start_date",
            "end_date",
            "exit_reason",
        ).subquery("enrolments"),
        sessions=_pick(
            ImportedSession,
            "id",
            "intervention_id",
            "starts_at",
            "duration_minutes",
            "session_type",
            "mode",
            "location_type",
            "status",
        ).subquery("sessions"),
        attendances=_pick(ImportedAttendance, "session_id", "participant_id", "status").subquery(
            "attendances"
        ),
        responses=_pick(
            ImportedResponse,
            "id",
            "participant_id",
            "enrolment_id",
            "measure_id",
            "timepoint",
            "completed_on",
            "scores",
        ).subquery("responses"),
        batches=_imported_batches,
        age_note=AGE_NOTE,
        dose_lines=ImportedAttendance.__table__,
    )


def _imported_batches(conn: Connection, quarter: Quarter) -> list[dict[str, Any]]:
    """Every batch imported so far: together they make the records the figures count."""
    rows = conn.execute(
        select(
            Batch.id,
            Batch.status,
            Batch.created_at,
            Batch.record_count,
            Batch.period,
            Provider.code,
        )
        .outerjoin(Provider, Provider.id == Batch.provider_id)
        .where(Batch.direction == "in")
        .order_by(Batch.created_at)
    ).all()
    return [
        {
            "id": r.id,
            "provider": r.code or "",
            "status": f"{r.status} ({display_period(r.period)})" if r.period else r.status,
            "created_at": clock.local_naive(r.created_at),  # a cell holds no zone
            "records": r.record_count,
        }
        for r in rows
    ]


def provider_cores(
    conn: Connection, quarter: Quarter, measures: Sequence[MeasureDefinition], rule: Rule
) -> list[Protection]:
    """Each provider's Reach and Outcomes for the period, rebuilt from the records it sent and
    protected exactly as its own return protects them (the same deterministic method over the
    same figures): what the partnership return must stay consistent with."""
    from vrp_desktop.returns import aggregate
    from vrp_desktop.returns.protection import core_release

    ids = conn.execute(
        select(Provider.id).where(Provider.is_self.is_(False)).order_by(Provider.code)
    ).scalars()
    cores = []
    for provider_id in list(ids):
        figures = aggregate.figures(
            conn, partnership_source(quarter, provider_id), quarter, measures
        )
        if figures.reach and any(g.grand for g in figures.reach):
            cores.append(protect(core_release(figures), rule))
    return cores
