"""The evaluation's data, read in SQL over the return's ``Source`` (a provider's own tables or
the coordinator's imported ones): the period's cohort of enrolments with who they are, their
dose from the rosters, and their baseline and exit questionnaires.

The cohort is every enrolment referred in the period (its referral date, or its start date when
no referral date was recorded), wherever its later steps fall: an attrition funnel follows the
same people from referral to a paired exit. Three reads, each a set-based query: the cohort,
the dose (a group-by over the cohort's roster lines, absences included), the questionnaires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal_column,
    select,
)

from vrp_desktop import codes
from vrp_desktop.evaluation.period import Period
from vrp_desktop.returns.source import Source

Progress = Callable[[str, int, int], None]


@dataclasses.dataclass
class Pair:
    """One person's baseline and exit on one measure within one enrolment."""

    measure_id: str
    base: dict[str, Any]
    exit: dict[str, Any]
    base_on: dt.date
    exit_on: dt.date
    sessions: int = 0
    hours: float = 0.0


@dataclasses.dataclass
class Record:
    """One enrolment of the cohort, with who it is and how far it got."""

    enrolment_id: str
    participant_id: str
    person_key: str
    intervention_id: str
    provider_id: str
    referral_date: dt.date | None
    start_date: dt.date | None
    end_date: dt.date | None
    exit_reason: str | None
    age_band: str | None
    gender: str | None
    ethnicity: str | None
    area: str | None
    sessions_rostered: int = 0
    sessions_attended: int = 0
    hours: float = 0.0
    baselines: set[str] = dataclasses.field(default_factory=set)
    exits: set[str] = dataclasses.field(default_factory=set)
    pairs: dict[str, Pair] = dataclasses.field(default_factory=dict)


_metadata = MetaData()
_COHORT = Table(
    "ev_cohort",
    _metadata,
    Column("enrolment_id", String(36), primary_key=True),
    Column("participant_id", String(36)),
    Column("intervention_id", String(36)),
    Index("ev_cohort_pair", "participant_id", "intervention_id"),
    prefixes=["TEMPORARY"],
)
#: page cache while the evaluation reads (KiB when negative), as the return sets it
CACHE_SIZE = -131072


def _exit_reasons(src: Source):
    """The enrolments' exit reasons (not among the return's columns), by enrolment id."""
    from vrp_desktop.store.models import Enrolment
    from vrp_desktop.store.sync_models import ImportedEnrolment

    model = ImportedEnrolment if src.kind == "partnership" else Enrolment
    return select(model.id, model.exit_reason).subquery("exit_reasons")


def read_cohort(conn: Connection, src: Source, period: Period) -> list[Record]:
    e, i, p = src.enrolments, src.interventions, src.people
    x = _exit_reasons(src)
    entered = func.coalesce(e.c.referral_date, e.c.start_date)
    rows = conn.execute(
        select(
            e.c.id,
            e.c.participant_id,
            p.c.person_key,
            e.c.intervention_id,
            i.c.provider_id,
            e.c.referral_date,
            e.c.start_date,
            e.c.end_date,
            x.c.exit_reason,
            p.c.age_band,
            p.c.gender,
            p.c.ethnicity,
            p.c.postcode_district,
        )
        .select_from(e)
        .join(i, i.c.id == e.c.intervention_id)
        .join(p, p.c.id == e.c.participant_id)
        .outerjoin(x, x.c.id == e.c.id)
        .where(entered >= period.start, entered <= period.end)
        .order_by(e.c.id)
    ).all()
    return [Record(*row) for row in rows]


def _fill_cohort(conn: Connection, records: list[Record]) -> None:
    _COHORT.drop(conn, checkfirst=True)
    _COHORT.create(conn)
    if records:
        conn.execute(
            insert(_COHORT),
            [
                {
                    "enrolment_id": r.enrolment_id,
                    "participant_id": r.participant_id,
                    "intervention_id": r.intervention_id,
                }
                for r in records
            ],
        )


def read_dose(conn: Connection, src: Source, by_id: dict[str, Record]) -> None:
    """Sessions rostered and attended, and contact hours, per enrolment: the delivered sessions
    of its intervention on whose roster the person is (absences are roster lines too)."""
    c, a, s = _COHORT, src.attendances, src.sessions
    present = a.c.status.in_([literal_column(f"'{v}'") for v in sorted(codes.PRESENT_STATUSES)])
    # One pass over the roster lines of delivered sessions (in the order they are stored, as
    # one COUNT of them would read), each matched to the cohort through its index. Driving it
    # from the cohort instead, a person's roster lines are scattered pages of the encrypted
    # file, read one by one (ten times slower at 100,000 people). ``|| ''`` keeps SQLite from
    # taking that route through the attendance index by person.
    rows = conn.execute(
        select(
            c.c.enrolment_id,
            func.count(),
            func.sum(case((present, 1), else_=0)),
            func.sum(case((present, func.coalesce(s.c.duration_minutes, 0)), else_=0)),
        )
        .select_from(a)
        .join(s, s.c.id == a.c.session_id)
        .join(
            c,
            and_(
                c.c.participant_id == a.c.participant_id.concat(""),
                c.c.intervention_id == s.c.intervention_id.concat(""),
            ),
        )
        .where(s.c.status == "delivered")
        .group_by(c.c.enrolment_id)
    )
    for enrolment_id, rostered, attended, minutes in rows:
        record = by_id[enrolment_id]
        record.sessions_rostered = int(rostered or 0)
        record.sessions_attended = int(attended or 0)
        record.hours = float(minutes or 0) / 60.0


def read_questionnaires(conn: Connection, src: Source, records: list[Record]) -> None:
    """Each enrolment's baselines and exits, paired per measure: the earliest baseline and the
    latest exit on or after it. A questionnaire not tied to an enrolment counts for the
    person's enrolment when they have only one in the cohort."""
    r, c = src.responses, _COHORT
    by_id = {rec.enrolment_id: rec for rec in records}
    only: dict[str, Record | None] = {}
    for rec in records:
        only[rec.participant_id] = None if rec.participant_id in only else rec
    cohort_people = select(c.c.participant_id).distinct().scalar_subquery()
    rows = conn.execute(
        select(
            r.c.participant_id,
            r.c.enrolment_id,
            r.c.measure_id,
            r.c.timepoint,
            r.c.completed_on,
            r.c.scores,
        )
        .where(r.c.participant_id.in_(cohort_people), r.c.timepoint.in_(("baseline", "exit")))
        .order_by(r.c.completed_on, r.c.id)
    )
    found: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"b": [], "x": []})
    for participant_id, enrolment_id, measure_id, timepoint, completed_on, scores in rows:
        record = by_id.get(enrolment_id) if enrolment_id else only.get(participant_id)
        if record is None:
            continue
        if timepoint == "baseline":
            record.baselines.add(measure_id)
            found[(record.enrolment_id, measure_id)]["b"].append((completed_on, scores or {}))
        else:
            record.exits.add(measure_id)
            found[(record.enrolment_id, measure_id)]["x"].append((completed_on, scores or {}))
    for (enrolment_id, measure_id), got in found.items():
        if not got["b"] or not got["x"]:
            continue
        base_on, base = got["b"][0]
        exits = [item for item in got["x"] if item[0] >= base_on]
        if not exits:
            continue
        exit_on, post = exits[-1]
        record = by_id[enrolment_id]
        record.pairs[measure_id] = Pair(
            measure_id, base, post, base_on, exit_on, record.sessions_attended, record.hours
        )


def read(
    conn: Connection, src: Source, period: Period, progress: Progress | None = None
) -> list[Record]:
    """The whole cohort, with dose and questionnaire pairs, in three set-based reads."""
    report = progress or (lambda *_: None)
    report("Finding the period's referrals", 0, 3)
    sqlite = conn.dialect.name == "sqlite"  # a coordinator on PostgreSQL has no page cache
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size = {CACHE_SIZE}")
    records = read_cohort(conn, src, period)
    try:
        _fill_cohort(conn, records)
        report("Adding up attendance", 1, 3)
        read_dose(conn, src, {r.enrolment_id: r for r in records})
        report("Pairing questionnaires", 2, 3)
        read_questionnaires(conn, src, records)
    finally:
        _COHORT.drop(conn, checkfirst=True)
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    for record in records:  # dose travels with each pair (filled after the dose read)
        for pair in record.pairs.values():
            pair.sessions, pair.hours = record.sessions_attended, record.hours
    return records
