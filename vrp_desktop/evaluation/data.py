"""The evaluation's data, read in SQL over the return's ``Source`` (a provider's own tables or
the coordinator's imported ones): the period's cohort of enrolments with who they are, their
dose from the rosters, and their baseline and exit questionnaires.

The cohort is every enrolment referred in the period (its referral date, or its start date when
no referral date was recorded), wherever its later steps fall: an attrition funnel follows the
same people from referral to a paired exit. Three reads, each a set-based query: the cohort,
the dose (a group-by over the cohort's roster lines, absences included), the questionnaires.
They fill a ``Cohort`` of numpy columns (``read_columns``); ``read`` gives the same as records.

At 100,000 people, 1M sessions and 2M roster lines (bench_evaluation) the reads take about
2.3 s of CPU: the cohort 0.5 (0.36 of it in SQLite), filling the cohort table 0.15, the dose
0.9 (0.8 in SQLite, off the coordinator's register lines, which carry their session's
intervention, status and length: ``Source.dose_lines``; looking up each line's session took
10 s), the questionnaires 0.6 (0.45 in SQLite).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    Connection,
    CursorResult,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)

from vrp_desktop import codes
from vrp_desktop.evaluation.cohort import Coder, Cohort, PairColumns, days, score_arrays
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
    Column("k", Integer, primary_key=True),
    Column("enrolment_id", String(36)),
    Column("participant_id", String(36)),
    Column("intervention_id", String(36)),
    Index("ev_cohort_pair", "participant_id", "intervention_id"),
    Index("ev_cohort_enrolment", "enrolment_id"),
    prefixes=["TEMPORARY"],
)
#: page cache while the evaluation reads (KiB when negative): the roster pass reads each page
#: once, in order, so a small cache serves it; a large one only adds to the peak memory
CACHE_SIZE = -16384
#: rows fetched at a time (each batch becomes arrays before the next is read)
CHUNK = 20_000


def _tuples(result: CursorResult) -> Iterator[list[tuple]]:
    """The rows of ``result`` in chunks of plain tuples, straight from the driver's cursor.
    Every column these reads select needs no conversion (dates and scores come as the driver
    gives them, see ``_raw``), and making a SQLAlchemy row of each took 0.2 s of the
    100,000-person read."""
    cursor = result.cursor
    try:
        while chunk := cursor.fetchmany(CHUNK):
            yield chunk
    finally:
        result.close()


def _raw(column):
    """A date column as the driver returns it (ISO text in SQLite), parsed by numpy at once
    instead of one ``date`` object per value."""
    return type_coerce(column, String)


def read_cohort(conn: Connection, src: Source, period: Period) -> Cohort:
    """The period's enrolments with who they are, as columns (enrolment id order)."""
    e, i, p = src.enrolments, src.interventions, src.people
    entered = func.coalesce(e.c.referral_date, e.c.start_date)
    result = conn.execute(
        select(
            e.c.id,
            e.c.participant_id,
            p.c.person_key,
            e.c.intervention_id,
            i.c.provider_id,
            _raw(e.c.referral_date),
            _raw(e.c.start_date),
            _raw(e.c.end_date),
            e.c.exit_reason,
            p.c.age_band,
            p.c.gender,
            p.c.ethnicity,
            p.c.postcode_district,
        )
        .select_from(e)
        .join(i, i.c.id == e.c.intervention_id)
        .join(p, p.c.id == e.c.participant_id)
        .where(entered >= period.start, entered <= period.end)
        .order_by(e.c.id)
    )
    coders = [Coder() for _ in range(9)]
    ids: list[str] = []
    people: list[str] = []
    coded: list[list[np.ndarray]] = [[] for _ in range(9)]
    dates: list[list[np.ndarray]] = [[], [], []]
    for chunk in _tuples(result):
        columns = list(zip(*chunk, strict=True))
        ids += columns[0]
        people += columns[1]
        for j, col in enumerate((2, 3, 4, 8, 9, 10, 11, 12)):
            coded[j].append(coders[j].code(columns[col], len(chunk)))
        for j, col in enumerate((5, 6, 7)):
            dates[j].append(days(columns[col]))

    def joined(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    key, iv, pv, reason, age, gender, ethnicity, area = (joined(c) for c in coded[:8])
    n = len(ids)
    return Cohort(
        enrolment_id=ids,
        participant_id=people,
        person=key,
        person_keys=coders[0].values,
        intervention=iv,
        interventions=coders[1].values,
        provider=pv,
        providers=coders[2].values,
        referral=joined(dates[0]),
        start=joined(dates[1]),
        end=joined(dates[2]),
        exit_reason=reason,
        exit_reasons=coders[3].values,
        groups={
            "age_band": (age, coders[4].values),
            "gender": (gender, coders[5].values),
            "ethnicity": (ethnicity, coders[6].values),
            "area": (area, coders[7].values),
        },
        rostered=np.zeros(n, dtype=np.int64),
        attended=np.zeros(n, dtype=np.int64),
        hours=np.zeros(n, dtype=float),
        baselines={},
        exits={},
        pairs={},
    )


def _fill_cohort(conn: Connection, cohort: Cohort) -> None:
    """The cohort as a temporary table the dose read joins. Plain tuples through the driver's
    ``executemany``: a dict per row through SQLAlchemy's insert took 0.35 s at 52k rows."""
    _COHORT.drop(conn, checkfirst=True)
    _COHORT.create(conn)
    ivs = cohort.interventions
    rows = list(
        zip(
            range(len(cohort)),
            cohort.enrolment_id,
            cohort.participant_id,
            (ivs[j] for j in cohort.intervention.tolist()),
            strict=True,
        )
    )
    if rows:  # an empty list would run the statement once, with nothing bound
        conn.exec_driver_sql(
            f"INSERT INTO {_COHORT.name} (k, enrolment_id, participant_id, intervention_id) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )


def read_dose(conn: Connection, src: Source, cohort: Cohort) -> None:
    """Sessions rostered and attended, and contact hours, per enrolment: the delivered sessions
    of its intervention on whose roster the person is (absences are roster lines too)."""
    query = _dose_from_lines(src) if src.dose_lines is not None else _dose_by_session(src)
    result = conn.execute(query)
    for chunk in _tuples(result):
        # by column: numpy reads a list of driver rows one sequence at a time (0.8 s for 50k
        # rows, against 0.02 s for the same numbers as four tuples)
        k, rostered, attended, minutes = (
            np.array(column, dtype=float) for column in zip(*chunk, strict=True)
        )
        k = k.astype(np.int64)
        cohort.rostered[k] = rostered
        cohort.attended[k] = attended
        cohort.hours[k] = minutes / 60.0


def _added_up(status, minutes) -> tuple:
    """Per cohort enrolment: roster lines, lines present, and minutes present. The statuses
    are SQL literals, not bound parameters, so SQLite can match them to an index."""
    present = status.in_([literal_column(f"'{v}'") for v in sorted(codes.PRESENT_STATUSES)])
    return (
        _COHORT.c.k,
        func.count(),
        func.sum(case((present, 1), else_=0)),
        func.sum(case((present, func.coalesce(minutes, 0)), else_=0)),
    )


def _dose_from_lines(src: Source):
    """The dose off the register lines that carry their session's intervention, status and
    length (``Source.dose_lines``): each cohort member's lines on their intervention are one
    range of an index leading with the person, so no line's row or session is read (at 100k
    people / 1M sessions: about 1 s, where looking up each line's session took 10)."""
    c, d = _COHORT, src.dose_lines
    return (
        select(*_added_up(d.c.status, d.c.duration_minutes))
        .select_from(c)
        .join(
            d,
            and_(
                d.c.participant_id == c.c.participant_id,
                d.c.intervention_id == c.c.intervention_id,
            ),
        )
        .where(d.c.session_status == "delivered")
        .group_by(c.c.k)
    )


def _dose_by_session(src: Source):
    """The dose from the register joined to its sessions (a provider's own tables)."""
    c, a, s = _COHORT, src.attendances, src.sessions
    # One pass over the roster lines of delivered sessions (in the order they are stored, as
    # one COUNT of them would read), each matched to the cohort through its index, and added
    # up in SQL. Driving it from the cohort instead, a person's roster lines are scattered
    # pages of the encrypted file, read one by one (ten times slower at 100,000 people).
    # ``|| ''`` keeps SQLite from taking that route through the attendance index by person.
    return (
        select(*_added_up(a.c.status, s.c.duration_minutes))
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
        .group_by(c.c.k)
    )


def read_questionnaires(conn: Connection, src: Source, cohort: Cohort) -> None:
    """Each enrolment's baselines and exits, paired per measure: the earliest baseline and the
    latest exit on or after it. A questionnaire not tied to an enrolment counts for the
    person's enrolment when they have only one in the cohort.

    SQL finds each questionnaire's enrolment (through the cohort table's indexes); numpy picks
    the pairs; only the chosen questionnaires' scores are parsed."""
    r, c = src.responses, _COHORT
    by_enrolment = c.alias("by_enrolment")
    only = (
        select(c.c.participant_id, func.min(c.c.k).label("k"))
        .group_by(c.c.participant_id)
        .having(func.count() == 1)
        .subquery("only_one")
    )
    untied = or_(r.c.enrolment_id.is_(None), r.c.enrolment_id == "")
    cohort_people = select(c.c.participant_id).distinct().scalar_subquery()
    result = conn.execute(
        select(
            func.coalesce(by_enrolment.c.k, only.c.k),
            r.c.measure_id,
            r.c.timepoint,
            _raw(r.c.completed_on),
            type_coerce(r.c.scores, String),
        )
        .select_from(r)
        .outerjoin(by_enrolment, and_(~untied, by_enrolment.c.enrolment_id == r.c.enrolment_id))
        .outerjoin(only, and_(untied, only.c.participant_id == r.c.participant_id))
        .where(
            # ``|| ''``: one pass over the questionnaires in stored order. Through an index
            # (by timepoint, or by person) each match is a seek into scattered pages of the
            # encrypted file: 1.6 s against 0.4 s at 140k questionnaires, half of them a
            # cohort's.
            r.c.participant_id.concat("").in_(cohort_people),
            r.c.timepoint.concat("").in_(("baseline", "exit")),
            func.coalesce(by_enrolment.c.k, only.c.k).is_not(None),
        )
        .order_by(r.c.completed_on, r.c.id)
    )
    measures = Coder()
    ks, ms, bases, ons, texts = [], [], [], [], []
    for chunk in _tuples(result):
        columns = list(zip(*chunk, strict=True))
        ks.append(np.array(columns[0], dtype=np.int64))
        ms.append(measures.code(columns[1], len(chunk)))
        bases.append(np.array([tp == "baseline" for tp in columns[2]], dtype=bool))
        ons.append(days(columns[3]))
        texts += columns[4]
    n = len(cohort)
    if not ks:
        return
    k, m, base, on = (np.concatenate(x) for x in (ks, ms, bases, ons))
    row = np.arange(k.size)
    group = k * len(measures.values) + m  # one (enrolment, measure)
    groups, first_row = np.unique(group, return_index=True)  # rank: the order first met
    for code, measure_id in enumerate(measures.values):
        of = m == code
        cohort.baselines[measure_id] = _flags(n, k[of & base])
        cohort.exits[measure_id] = _flags(n, k[of & ~base])
        # the earliest baseline of each enrolment (rows are in date order)
        b_groups, b_first = np.unique(group[of & base], return_index=True)
        b_rows = row[of & base][b_first]
        # exits on or after that baseline; the latest of them (the last in date order)
        x_rows = row[of & ~base]
        at = np.searchsorted(b_groups, group[x_rows])
        at_ok = at < b_groups.size
        held = np.zeros(x_rows.size, dtype=bool)
        held[at_ok] = b_groups[at[at_ok]] == group[x_rows[at_ok]]
        x_rows = x_rows[held]
        x_rows = x_rows[on[x_rows] >= on[b_rows[at[held]]]]
        x_groups = group[x_rows]
        last = x_rows.size - 1 - np.unique(x_groups[::-1], return_index=True)[1]
        x_rows = x_rows[last]
        b_pair = b_rows[np.searchsorted(b_groups, group[x_rows])]
        who = k[x_rows]
        cols = PairColumns.empty(n)
        cols.has[who] = True
        cols.base_on[who] = on[b_pair]
        cols.exit_on[who] = on[x_rows]
        cols.rank[who] = first_row[np.searchsorted(groups, group[x_rows])]
        cols.sessions[who] = cohort.attended[who]
        cols.hours[who] = cohort.hours[who]
        cols.base = score_arrays(_all_scores([texts[j] for j in b_pair.tolist()]), who, n)
        cols.exit = score_arrays(_all_scores([texts[j] for j in x_rows.tolist()]), who, n)
        cohort.pairs[measure_id] = cols


def _flags(n: int, at: np.ndarray) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[at] = True
    return flags


def _all_scores(texts: list[Any]) -> list[dict[str, Any]]:
    """``_scores`` of each text. JSON texts are parsed as one array, in one call: a call per
    text spent most of its time in ``json.loads``' own Python, not in parsing (0.2 s for the
    28,000 pairs at 100k people)."""
    if all(isinstance(t, str) for t in texts):
        try:
            got = json.loads("[" + ",".join(texts) + "]")
        except ValueError:  # one bad text: each on its own says which
            pass
        else:
            if len(got) == len(texts):  # a text holding "1, 2" would have added items
                return [g if isinstance(g, dict) else {} for g in got]
    return [_scores(t) for t in texts]


def _scores(text: Any) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, dict):  # a driver that parses JSON itself (PostgreSQL)
        return text
    got = json.loads(text)
    return got if isinstance(got, dict) else {}


def read_columns(
    conn: Connection, src: Source, period: Period, progress: Progress | None = None
) -> Cohort:
    """The whole cohort, with dose and questionnaire pairs, as columns: three set-based reads."""
    report = progress or (lambda *_: None)
    report("Finding the period's referrals", 0, 3)
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = {CACHE_SIZE}")
    try:
        cohort = read_cohort(conn, src, period)
        _fill_cohort(conn, cohort)
        report("Adding up attendance", 1, 3)
        read_dose(conn, src, cohort)
        report("Pairing questionnaires", 2, 3)
        read_questionnaires(conn, src, cohort)
    finally:
        _COHORT.drop(conn, checkfirst=True)
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return cohort


def read(
    conn: Connection, src: Source, period: Period, progress: Progress | None = None
) -> list[Record]:
    """The cohort as one ``Record`` per enrolment (the same reads as ``read_columns``)."""
    return read_columns(conn, src, period, progress).records()
