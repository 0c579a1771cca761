"""The return's figures, worked out over a ``Source`` in set-based SQL and numpy (never a
Python loop over records; the outcome means are tallied over the quarter's questionnaire pairs,
one per person and measure).

People are counted once by pseudonymous reference (``person_key``), so someone in two
interventions is one person in a total. Everything here is unsuppressed; ``report`` applies
the partnership's small-number rule before anything is shown or written.

One connection runs the whole return: the people reached and referred in the quarter go into a
temporary (in-memory) table once; the reach grids count its distinct people in numpy from one
read of it, and the other breakdowns are small group-bys over the temporary tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union,
)

from vrp_desktop import codes
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.returns.source import Source
from vrp_desktop.store.portable import present_statuses

Progress = Callable[[str, int, int], None]
NOT_RECORDED = "Not recorded"
TIER_LABELS = {"universal": "Universal", "targeted": "Targeted", "specialist": "Specialist"}
MEASURES = (("reached", "People reached"), ("referred", "New referrals"))
#: page cache for the length of a return (KiB when negative): pages read once stay decrypted
CACHE_SIZE = -32768


@dataclasses.dataclass
class Grid:
    """Counts or sums by category (rows) and split (columns), with totals from SQL."""

    measure: str
    breakdown: str
    rows: list[str]
    cols: list[str]
    cells: list[list[float]]
    row_totals: list[float]
    col_totals: list[float]
    grand: float
    #: counts of people: suppressed before publication
    people: bool = True
    number_format: str = "#,##0"
    #: the code each row counts (None for "Not recorded"), where rows are categories of people:
    #: disclosure control keys a count by what it counts, so tables that share one can see it
    row_keys: list[Any] | None = None


@dataclasses.dataclass
class OutcomeRow:
    measure_id: str
    measure: str
    score_id: str
    score: str
    better: str | None
    split: str
    people: int
    mean_baseline: float | None
    mean_exit: float | None
    mean_change: float | None
    share_improved: float | None


@dataclasses.dataclass
class Figures:
    quarter: Quarter
    kind: str
    providers: list[dict[str, Any]]
    splits: list[tuple[str, str]]  # (key, label), in column order
    split_name: str  # "Intervention" | "Provider"
    reach: list[Grid]
    delivery: list[Grid]
    outcomes: list[OutcomeRow]
    quality: list[Grid]
    batches: list[dict[str, Any]]
    age_note: str
    #: not-present register rows by breakdown, (category, split), worked out with the rest
    #: when the source has a register clustered by start time (see ``attendance.rates``). Not
    #: a field (no annotation): a by-product of reading, not one of the return's figures, so
    #: comparisons of figures (``dataclasses.asdict``) leave it out
    absent = None


# -- labels ---------------------------------------------------------------------------------


def _framework_codes(conn: Connection, attr: str) -> dict[str, str]:
    from vrp_desktop.services import frameworks as fw_service

    merged: dict[str, str] = {}
    for framework in fw_service.builtin_catalog().frameworks():
        for entry in getattr(framework, attr):
            merged.setdefault(entry.code, entry.label)
    return merged


def _ordered(found: set[Any], known: dict[str, str]) -> list[tuple[Any, str]]:
    """Every known category (zeros show), then unexpected codes, then "Not recorded"."""
    rows = [(code, label) for code, label in known.items()]
    extra = sorted(str(v) for v in found if v is not None and v not in known)
    rows += [(code, code) for code in extra]
    rows.append((None, NOT_RECORDED))
    return rows


# -- the temporary tables: the quarter's sessions and attendees, people reached and referred --

_metadata = MetaData()
#: the quarter's sessions (any status), with every column a figure reads; a heap in the order
#: they were read (keyed by id, each insert was a seek into a B-tree of 170k random ids: 0.5 s).
#: Only a source without a register joins it by id, and indexes it then
_SESSIONS = Table(
    "rt_sessions",
    _metadata,
    Column("id", String(36)),
    Column("intervention_id", String(36)),
    Column("split", String(36)),
    Column("status", String(16)),
    Column("session_type", String(16)),
    Column("duration_minutes", Integer),
    Column("mode", String(16)),
    Column("location_type", String(64)),
    Column("sync_state", String(16)),
    Column("has_error", Integer),
    Column("open_warning", Integer),
    prefixes=["TEMPORARY"],
)
#: attendances that are not a present one (absent, cancelled...), from a small partial index
_ABSENT = Table(
    "rt_absent",
    _metadata,
    Column("session_id", String(36)),
    Column("participant_id", String(36)),
    Index("rt_absent_pair", "session_id", "participant_id"),
    prefixes=["TEMPORARY"],
)
#: who was present at the quarter's delivered sessions of each intervention, once each (a
#: row per attendance held 300k rows, 50 MB, at 100k people; the reach needs only who)
_ATTENDED = Table(
    "rt_attended",
    _metadata,
    Column("participant_id", String(36)),
    Column("intervention_id", String(36)),
    prefixes=["TEMPORARY"],
)
#: register rows of the quarter's delivered sessions by session type, intervention and whether
#: present, with their minutes: the delivery sums (present) and the attendance rate (the rest)
_REGISTER_COUNTS = Table(
    "rt_register_counts",
    _metadata,
    Column("session_type", String(16)),
    Column("intervention_id", String(36)),
    Column("present", Integer),
    Column("register_rows", Integer),
    Column("minutes", Integer),
    prefixes=["TEMPORARY"],
)
#: attendances and their minutes by session type, intervention and split: what delivery sums
_ATTENDANCE_SUMS = Table(
    "rt_attendance_sums",
    _metadata,
    Column("session_type", String(16)),
    Column("intervention_id", String(36)),
    Column("split", String(36)),
    Column("attendances", Integer),
    Column("minutes", Integer),
    prefixes=["TEMPORARY"],
)
#: enrolments open in the quarter (``active``) or referred in it (``referred``): one read
_ENROLMENTS = Table(
    "rt_enrolments",
    _metadata,
    Column("participant_id", String(36)),
    Column("intervention_id", String(36)),
    Column("split", String(36)),
    Column("referral_source", String(64)),
    Column("referral_date", String(10)),
    Column("start_date", String(10)),
    Column("active", Integer),
    Column("referred", Integer),
    Column("sync_state", String(16)),
    Column("has_error", Integer),
    Column("open_warning", Integer),
    Index("rt_enrolments_pair", "participant_id", "intervention_id"),
    prefixes=["TEMPORARY"],
)
_PEOPLE = Table(
    "rt_people",
    _metadata,
    Column("measure", String(16)),
    Column("person_key", Text),
    Column("participant_id", String(36)),
    Column("split", String(36)),
    Column("intervention_id", String(36)),
    Column("age_band", String(16)),
    Column("gender", String(32)),
    Column("ethnicity", String(32)),
    Column("tier", String(32)),
    Column("setting", String(64)),
    Column("referral_source", String(64)),
    # the person's record as the data-quality sheet reads it, taken on the same read; a
    # coarsened area reads as its authority's name ("Birmingham (local authority)"), longer
    # than any district (PostgreSQL enforces a length, SQLite does not)
    Column("postcode_district", Text),
    Column("consent_status", String(32)),
    Column("sync_state", String(16)),
    Column("has_error", Integer),
    Column("open_warning", Integer),
    prefixes=["TEMPORARY"],
)
#: each person's latest exit questionnaire in the quarter with the baseline before it
_PAIRS = Table(
    "rt_pairs",
    _metadata,
    Column("person_key", Text),
    Column("split", String(36)),
    Column("measure_id", String(64)),
    Column("base", Text),
    Column("exit", Text),
    prefixes=["TEMPORARY"],
)
#: each person's latest exit questionnaire per measure in the quarter, read once (as a
#: subquery it was worked out twice, each time scanning every questionnaire ever recorded)
_EXITS = Table(
    "rt_exits",
    _metadata,
    Column("participant_id", String(36)),
    Column("enrolment_id", String(36)),
    Column("measure_id", String(64)),
    Column("completed_on", Date),
    Column("scores", Text),
    prefixes=["TEMPORARY"],
)
_TEMPORARY = (
    _SESSIONS,
    _EXITS,
    _ABSENT,
    _ATTENDED,
    _REGISTER_COUNTS,
    _ATTENDANCE_SUMS,
    _ENROLMENTS,
    _PEOPLE,
    _PAIRS,
)


def _create_temporary(conn: Connection) -> None:
    _drop_temporary(conn)
    for table in _TEMPORARY:
        table.create(conn)


def _drop_temporary(conn: Connection) -> None:
    for table in reversed(_TEMPORARY):
        table.drop(conn, checkfirst=True)


def _bounds(q: Quarter) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(q.start, dt.time()), dt.datetime.combine(q.next().start, dt.time())


def _split_col(src: Source, interventions):
    return interventions.c.provider_id if src.kind == "partnership" else interventions.c.id


def _has_quality(table) -> bool:
    """Whether a source's records carry what the data-quality figures read (a provider's do;
    the records a coordinator imported have all been accepted and carry none)."""
    return "sync_state" in table.c


def _fill_sessions(conn: Connection, src: Source, q: Quarter) -> None:
    """One read of the quarter's sessions (a range of ``ix_session_return``, which covers every
    column here); then their register rows, off the start-keyed register copy where the source
    has one (``_fill_register``), else joined from the attendances."""
    s, i, a = src.sessions, src.interventions, src.attendances
    lo, hi = _bounds(q)
    columns = [
        s.c.id,
        s.c.intervention_id,
        _split_col(src, i),
        s.c.status,
        s.c.session_type,
        s.c.duration_minutes,
        s.c.mode,
        s.c.location_type,
    ]
    names = [c.name for c in _SESSIONS.columns][: len(columns)]
    if _has_quality(s):
        columns += _quality_columns(s)
        names += ["sync_state", "has_error", "open_warning"]
    conn.execute(
        insert(_SESSIONS).from_select(
            names,
            select(*columns)
            .join(i, i.c.id == s.c.intervention_id)
            .where(s.c.starts_at >= lo, s.c.starts_at < hi),
        )
    )
    t = _SESSIONS
    if src.register is not None:
        _fill_register(conn, src, lo, hi)
        return
    # made after the rows are in (sorted once, not a seek per insert)
    conn.exec_driver_sql("CREATE INDEX rt_sessions_id ON rt_sessions (id)")
    attendees = (
        select(a.c.participant_id)
        .select_from(t)
        .join(a, a.c.session_id == t.c.id)
        .where(t.c.status == "delivered")
    )
    if src.not_present is None:
        attendees = attendees.where(a.c.status.in_(sorted(codes.PRESENT_STATUSES)))
    else:
        n, x = src.not_present, _ABSENT
        conn.execute(
            insert(x).from_select(
                ["session_id", "participant_id"], select(n.c.session_id, n.c.participant_id)
            )
        )
        attendees = attendees.where(
            ~exists().where(
                x.c.session_id == a.c.session_id, x.c.participant_id == a.c.participant_id
            )
        )
    per_session = attendees.with_only_columns(a.c.session_id, func.count().label("n")).group_by(
        a.c.session_id
    )
    _fill_attendance(conn, attendees, per_session.subquery("per_session"))


def _fill_register(conn: Connection, src: Source, lo: dt.datetime, hi: dt.datetime) -> None:
    """The quarter's register rows off one contiguous range of ``attendance_by_start`` (keyed
    by session start, carrying each row's session type, length, status and intervention), with
    no lookup per row: who attended each intervention (``rt_attended``), and the rows and
    minutes by session type, intervention and presence (``rt_register_counts``), from which
    the delivery sums and the attendance rate's absences come. The second pass reads the same
    range again, from the page cache."""
    r, c, i = src.register, _REGISTER_COUNTS, src.interventions
    present = r.c.status.in_(present_statuses())
    of_quarter = (r.c.starts_at >= lo, r.c.starts_at < hi, r.c.session_status == "delivered")
    conn.execute(
        insert(_ATTENDED).from_select(
            ["participant_id", "intervention_id"],
            select(r.c.participant_id, r.c.intervention_id).where(*of_quarter, present).distinct(),
        )
    )
    is_present = case((present, 1), else_=0)
    conn.execute(
        insert(c).from_select(
            [col.name for col in c.columns],
            select(
                r.c.session_type,
                r.c.intervention_id,
                is_present,
                func.count(),
                func.sum(func.coalesce(r.c.duration_minutes, 0)),
            )
            .where(*of_quarter)
            .group_by(r.c.session_type, r.c.intervention_id, is_present),
        )
    )
    conn.execute(
        insert(_ATTENDANCE_SUMS).from_select(
            [col.name for col in _ATTENDANCE_SUMS.columns],
            select(
                c.c.session_type,
                c.c.intervention_id,
                _split_col(src, i),
                c.c.register_rows,
                c.c.minutes,
            )
            .join(i, i.c.id == c.c.intervention_id)
            .where(c.c.present == 1),
        )
    )


def _fill_attendance(conn: Connection, attendees, per_session) -> None:
    """Who attended each intervention, from ``attendees`` (a select of present register rows
    joined to ``rt_sessions``), and the delivery sums from ``per_session`` (session_id, n:
    present register rows per session), added up a row per delivered session, not a row per
    attendance."""
    t = _SESSIONS
    conn.execute(
        insert(_ATTENDED).from_select(
            ["participant_id", "intervention_id"],
            attendees.add_columns(t.c.intervention_id).distinct(),
        )
    )
    by = (t.c.session_type, t.c.intervention_id, t.c.split)
    sums = (
        select(
            *by,
            func.sum(per_session.c.n),
            func.sum(per_session.c.n * func.coalesce(t.c.duration_minutes, 0)),
        )
        .select_from(per_session)
        .join(t, t.c.id == per_session.c.session_id)
        .where(t.c.status == "delivered")
        .group_by(*by)
    )
    conn.execute(
        insert(_ATTENDANCE_SUMS).from_select([c.name for c in _ATTENDANCE_SUMS.columns], sums)
    )


def absent_rows(conn: Connection, src: Source) -> dict[str, dict[tuple[Any, Any], int]]:
    """Not-present register rows of the quarter's delivered sessions by breakdown, category
    and split (the shape of ``attendance.rates``), from ``rt_register_counts`` while it
    exists (a source with a register)."""
    c, i = _REGISTER_COUNTS, src.interventions
    rows = conn.execute(
        select(c.c.session_type, c.c.intervention_id, _split_col(src, i), c.c.register_rows)
        .join(i, i.c.id == c.c.intervention_id)
        .where(c.c.present == 0)
    ).all()
    out: dict[str, dict[tuple[Any, Any], int]] = {"Session type": {}, "Intervention": {}}
    for session_type, intervention_id, key, count in rows:
        for breakdown, cat in (("Session type", session_type), ("Intervention", intervention_id)):
            cell = out[breakdown]
            cell[(cat, key)] = cell.get((cat, key), 0) + count
    return out


def _fill_enrolments(conn: Connection, src: Source, q: Quarter) -> None:
    e, i = src.enrolments, src.interventions
    active = and_(e.c.start_date <= q.end, or_(e.c.end_date.is_(None), e.c.end_date >= q.start))
    referred = and_(e.c.referral_date >= q.start, e.c.referral_date <= q.end)
    columns = [
        e.c.participant_id,
        e.c.intervention_id,
        _split_col(src, i),
        e.c.referral_source,
        e.c.referral_date,
        e.c.start_date,
        case((active, 1), else_=0),
        case((referred, 1), else_=0),
    ]
    names = [c.name for c in _ENROLMENTS.columns][: len(columns)]
    if _has_quality(e):
        columns += _quality_columns(e)
        names += ["sync_state", "has_error", "open_warning"]
    conn.execute(
        insert(_ENROLMENTS).from_select(
            names,
            select(*columns).join(i, i.c.id == e.c.intervention_id).where(or_(active, referred)),
        )
    )


def _reach_columns(measure: str, src, p, i, referral_source) -> list:
    """The columns of one row of the reach breakdowns: who, where, and how they came."""
    return [
        literal(measure).label("measure"),
        p.c.person_key,
        p.c.id,
        _split_col(src, i),
        i.c.id,
        p.c.age_band,
        p.c.gender,
        p.c.ethnicity,
        i.c.tier,
        i.c.setting,
        referral_source,
        p.c.postcode_district,
        p.c.consent_status,
        *_quality_columns(p),
    ]


def _quality_columns(table) -> list:
    """sync_state, has_error and open_warning of a record (NULL where the source has none)."""
    if not _has_quality(table):
        return [null().cast(String), null().cast(Integer), null().cast(Integer)]
    if "has_error" in table.c:  # worked out by the store when the record was written
        return [table.c.sync_state, table.c.has_error, table.c.has_open_warning]
    return [
        table.c.sync_state,
        _has_severity(table.c.findings, "error"),
        and_(
            _has_severity(table.c.findings, "warning"),
            or_(table.c.warning_reason.is_(None), table.c.warning_reason == ""),
        ),
    ]


def _fill_people(conn: Connection, src: Source, q: Quarter) -> None:
    p, i, t, e = src.people, src.interventions, _ATTENDED, _ENROLMENTS
    attended = select(t.c.participant_id, t.c.intervention_id)
    enrolled = select(e.c.participant_id, e.c.intervention_id).where(e.c.active == 1)
    pairs = union(attended, enrolled).subquery("pairs")
    # how each pair came: one row per referral source of its open enrolments. Pairs are
    # distinct and a person and an intervention settle every other column, so the rows are
    # distinct without a DISTINCT over all of them (a sort of 100k wide rows)
    e2 = (
        select(e.c.participant_id, e.c.intervention_id, e.c.referral_source)
        .where(e.c.active == 1)
        .distinct()
        .subquery("e2")
    )
    reached = (
        select(*_reach_columns("reached", src, p, i, e2.c.referral_source))
        .select_from(pairs)
        .join(p, p.c.id == pairs.c.participant_id)
        .join(i, i.c.id == pairs.c.intervention_id)
        .outerjoin(
            e2,
            and_(
                e2.c.participant_id == pairs.c.participant_id,
                e2.c.intervention_id == pairs.c.intervention_id,
            ),
        )
    )
    referred = (
        select(*_reach_columns("referred", src, p, i, e.c.referral_source))
        .select_from(e)
        .join(p, p.c.id == e.c.participant_id)
        .join(i, i.c.id == e.c.intervention_id)
        .where(e.c.referred == 1)
        .distinct()
    )
    names = [c.name for c in _PEOPLE.columns]
    conn.execute(insert(_PEOPLE).from_select(names, reached))
    conn.execute(insert(_PEOPLE).from_select(names, referred))


#: a column as integer codes (one per row) and the value each code stands for
Coded = tuple[np.ndarray, list[Any]]


def _coded_columns(conn: Connection, columns: list, where, batch: int = 5_000) -> dict[str, Coded]:
    """Rows of a temporary table, each column numbered as it is read. Numbering a batch at a
    time keeps one integer per cell, not a string object per cell (a whole read of
    ``rt_people`` at 100k people took 80 MB more than the return was allowed)."""
    numbers: list[dict[Any, int]] = [{} for _ in columns]
    chunks: list[list[np.ndarray]] = [[] for _ in columns]
    result = conn.execute(select(*columns).where(where))
    while rows := result.fetchmany(batch):
        for number, chunk, values in zip(numbers, chunks, zip(*rows, strict=True), strict=True):
            for value in dict.fromkeys(values):
                number.setdefault(value, len(number))
            chunk.append(np.fromiter(map(number.__getitem__, values), np.int64, len(values)))
    return {
        column.name: (np.concatenate(chunk) if chunk else np.zeros(0, np.int64), list(number))
        for column, number, chunk in zip(columns, numbers, chunks, strict=True)
    }


def _mapped(column: Coded, convert: Callable[[Any], Any]) -> Coded:
    """A coded column with every value converted (codes merged where values now agree)."""
    codes, values = column
    converted = [convert(v) for v in values]
    number = {v: k for k, v in enumerate(dict.fromkeys(converted))}
    recode = np.array([number[v] for v in converted], dtype=np.int64)
    return (recode[codes] if len(codes) else codes), list(number)


def _distinct_people(groups: np.ndarray, keys: np.ndarray, n_keys: int) -> dict[int, int]:
    """How many distinct people (``keys``, < ``n_keys``) each group number holds."""
    if not len(keys):
        return {}
    pairs = _sorted_distinct(groups * n_keys + keys)
    group = pairs // n_keys  # sorted too: one run per group
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    counts = np.diff(np.r_[starts, len(group)])
    return dict(zip(group[starts].tolist(), counts.tolist(), strict=True))


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a neighbour comparison: faster here than
    ``np.unique``, which hashes)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _people_grid(
    measure: tuple[str, str],
    breakdown: str,
    people: tuple[Coded, Coded, tuple[np.ndarray, int]],
    categories: list[tuple[Any, str]],
    splits: list[tuple[str, str]],
    totals: tuple[dict[Any, int], int],
) -> Grid:
    """One breakdown's grid from its rows' categories, splits and people: each person counted
    once per cell and once per row total."""
    (cat_codes, cat_values), (split_codes, split_values), (keys, n_keys) = people
    n_splits = max(len(split_values), 1)
    cell = {
        (cat_values[g // n_splits], split_values[g % n_splits]): n
        for g, n in _distinct_people(cat_codes * n_splits + split_codes, keys, n_keys).items()
    }
    by_row = {cat_values[g]: n for g, n in _distinct_people(cat_codes, keys, n_keys).items()}
    col_totals, grand = totals
    known = {code for code, _ in categories}
    categories = categories + [(c, str(c)) for c in sorted(by_row, key=str) if c not in known]
    return Grid(
        measure=measure[1],
        breakdown=breakdown,
        rows=[label for _, label in categories],
        cols=[label for _, label in splits],
        cells=[[cell.get((code, key), 0) for key, _ in splits] for code, _ in categories],
        row_totals=[by_row.get(code, 0) for code, _ in categories],
        col_totals=[col_totals.get(key, 0) for key, _ in splits],
        grand=grand,
        row_keys=[code for code, _ in categories],
    )


def reach(conn: Connection, src: Source, q: Quarter, splits, intervention_names) -> list[Grid]:
    """People reached and referred by every breakdown, each person counted once per cell.

    ``rt_people`` is read once and its distinct people counted here, a column at a time: as
    some thirty ``count(DISTINCT ...)`` group-bys (one per cell shape, each re-reading and
    re-sorting the table) this took 3.5 s of a 14 s return at 100k people."""
    _fill_people(conn, src, q)
    t = _PEOPLE
    group_of = dict(codes._ETHNIC_GROUP_OF)
    named = ["age_band", "gender", "ethnicity", "tier", "setting", "referral_source"]
    if src.kind == "partnership":
        named.append("intervention_id")
    read = [t.c.person_key, t.c.split, *(t.c[n] for n in named)]
    by_measure = {m: _coded_columns(conn, read, t.c.measure == m) for m, _ in MEASURES}
    for people in by_measure.values():
        people["ethnic_group"] = _mapped(people["ethnicity"], lambda e: group_of.get(e, e))

    def ordered(column: str, known: dict[str, str]) -> list[tuple[Any, str]]:
        """Every known category, then any other code either measure found."""
        found = set().union(*(people[column][1] for people in by_measure.values()))
        return _ordered(found, known)

    breakdowns = [
        ("Age band", "age_band", _ordered(set(), {b: b for b in codes.AGE_BANDS})),
        ("Gender", "gender", _ordered(set(), dict(codes.GENDERS))),
        ("Ethnic group", "ethnic_group", _ordered(set(), dict(codes.ETHNIC_GROUPS))),
        ("Ethnicity", "ethnicity", _ordered(set(), dict(codes.ETHNICITIES))),
        ("Tier", "tier", _ordered(set(), TIER_LABELS)),
        ("Setting", "setting", ordered("setting", _framework_codes(conn, "settings"))),
        (
            "Referral source",
            "referral_source",
            ordered("referral_source", _framework_codes(conn, "referral_sources")),
        ),
    ]
    if src.kind == "partnership":
        breakdowns.append(("Intervention", "intervention_id", list(intervention_names.items())))
    grids = []
    for measure in MEASURES:
        people = by_measure[measure[0]]
        keys, key_values = people["person_key"]
        split_codes, split_values = split_of = people["split"]
        by_split = {
            split_values[g]: n
            for g, n in _distinct_people(split_codes, keys, len(key_values)).items()
        }
        totals = (by_split, len(key_values))
        who = (keys, len(key_values))
        for title, column, categories in breakdowns:
            grids.append(
                _people_grid(
                    measure, title, (people[column], split_of, who), categories, splits, totals
                )
            )
    return grids


# -- delivery ---------------------------------------------------------------------------------


def delivery(conn: Connection, src: Source, q: Quarter, splits, intervention_names) -> list[Grid]:
    """Delivered sessions, hours, attendances and contact hours by session type (and, for the
    partnership, by intervention). Sums are additive, so totals come from the same group-by."""
    s, t = _SESSIONS, _ATTENDANCE_SUMS
    # sessions and hours from the sessions; attendances and contact hours from the sums of
    # the present register rows (sum over attendees of the duration = sum over sessions of
    # attendees x duration)
    metrics = (
        ("Sessions delivered", func.count(), "#,##0"),
        ("Hours delivered", func.sum(func.coalesce(s.c.duration_minutes, 0)) / 60.0, "#,##0.0"),
        ("Attendances", func.sum(t.c.attendances), "#,##0"),
        (
            "Contact hours (attendees × duration)",
            func.sum(t.c.minutes) / 60.0,
            "#,##0.0",
        ),
    )
    breakdowns = [
        (
            "Session type",
            (s.c.session_type, t.c.session_type),
            _ordered(set(), dict(codes.SESSION_TYPES)),
        ),
    ]
    if src.kind == "partnership":
        breakdowns.append(
            (
                "Intervention",
                (s.c.intervention_id, t.c.intervention_id),
                list(intervention_names.items()),
            )
        )
    grids = []
    for title, (by_session, by_attendee), categories in breakdowns:
        rows = conn.execute(
            select(
                by_session.label("cat"),
                s.c.split.label("split"),
                metrics[0][1].label("m0"),
                metrics[1][1].label("m1"),
            )
            .where(s.c.status == "delivered")
            .group_by(by_session, s.c.split)
        ).all()
        present = {
            (r.cat, r.split): r
            for r in conn.execute(
                select(
                    by_attendee.label("cat"),
                    t.c.split.label("split"),
                    metrics[2][1].label("m2"),
                    metrics[3][1].label("m3"),
                ).group_by(by_attendee, t.c.split)
            )
        }
        known = {code for code, _ in categories}
        categories = categories + [
            (r.cat, str(r.cat)) for r in rows if r.cat not in known and r.cat is not None
        ]
        for k, (label, _, fmt) in enumerate(metrics):
            value = {
                (r.cat, r.split): float(getattr(r, f"m{k}") or 0)
                for r in (rows if k < 2 else present.values())
            }
            cells = [[value.get((code, key), 0) for key, _ in splits] for code, _ in categories]
            grids.append(
                Grid(
                    measure=label,
                    breakdown=title,
                    rows=[lbl for _, lbl in categories],
                    cols=[lbl for _, lbl in splits],
                    cells=cells,
                    row_totals=[sum(r) for r in cells],
                    col_totals=[sum(c) for c in zip(*cells, strict=True)] if cells else [],
                    grand=sum(sum(r) for r in cells),
                    people=False,
                    number_format=fmt,
                    row_keys=[code for code, _ in categories],
                )
            )
    return grids


# -- outcomes ---------------------------------------------------------------------------------


def _fill_pairs(conn: Connection, src: Source, q: Quarter) -> None:
    """``rt_exits``: each person's latest exit questionnaire per measure in the quarter (one
    range of the responses' period index); ``rt_pairs``: each of those with the latest baseline
    on or before it, found by one backwards seek of the pair index per exit."""
    r, e, p, i = src.responses, src.enrolments, src.people, src.interventions
    ranked_exit = (
        select(
            r.c.participant_id,
            r.c.enrolment_id,
            r.c.measure_id,
            r.c.completed_on,
            r.c.scores,
            func.row_number()
            .over(
                partition_by=(r.c.participant_id, r.c.measure_id),
                order_by=(r.c.completed_on.desc(), r.c.id.desc()),
            )
            .label("rn"),
        )
        .where(r.c.timepoint == "exit", r.c.completed_on.between(q.start, q.end))
        .subquery("ranked_exit")
    )
    x = _EXITS
    conn.execute(
        insert(x).from_select(
            [c.name for c in x.columns],
            select(*(ranked_exit.c[c.name] for c in x.columns)).where(ranked_exit.c.rn == 1),
        )
    )
    baseline = (
        select(r.c.scores)
        .where(
            r.c.participant_id == x.c.participant_id,
            r.c.measure_id == x.c.measure_id,
            r.c.timepoint == "baseline",
            r.c.completed_on <= x.c.completed_on,
        )
        .order_by(r.c.completed_on.desc(), r.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    paired = (
        select(
            p.c.person_key,
            _split_col(src, i).label("split"),
            x.c.measure_id,
            baseline.label("base"),
            x.c.scores.label("exit"),
        )
        .select_from(x)
        .join(p, p.c.id == x.c.participant_id)
        .outerjoin(e, e.c.id == x.c.enrolment_id)
        .outerjoin(i, i.c.id == e.c.intervention_id)
    )
    pairs = _PAIRS
    conn.execute(insert(pairs).from_select([c.name for c in pairs.columns], paired))
    # an exit with no baseline before it is no pair (deleted, not filtered in the select, so
    # the baseline's seek runs once per exit)
    conn.execute(pairs.delete().where(pairs.c.base.is_(None)))


#: a score's pair as tallied: (person, split, baseline, exit)
_Pair = tuple[str, Any, float, float]
#: JSON numbers (``type`` leaves out True and False, which ``isinstance`` would let in)
_NUMBERS = (int, float)


def _change(pairs: list[_Pair], better: str | None) -> dict[str, Any]:
    """An outcome row's figures from its pairs: people (distinct), mean baseline, exit and
    change, and the share whose change was an improvement (where the score says which way
    is better)."""
    n = len(pairs)
    if not n:
        return {"people": 0}
    base = [p[2] for p in pairs]
    exit_ = [p[3] for p in pairs]
    if better == "lower":
        improved: float | None = sum(x < b for b, x in zip(base, exit_, strict=True)) / n
    elif better == "higher":
        improved = sum(x > b for b, x in zip(base, exit_, strict=True)) / n
    else:
        improved = None
    return {
        "people": len({p[0] for p in pairs}),
        "mean_baseline": math.fsum(base) / n,
        "mean_exit": math.fsum(exit_) / n,
        "mean_change": math.fsum(map(operator.sub, exit_, base)) / n,
        "share_improved": improved,
    }


def outcomes(
    conn: Connection, src: Source, q: Quarter, splits, measures: Sequence[MeasureDefinition]
) -> list[OutcomeRow]:
    """People with an exit questionnaire in the quarter and a baseline on or before it.

    For each person and measure: the latest exit in the quarter, paired with the latest
    baseline on or before that exit. Change = exit - baseline, per score. The pairs (one per
    person and measure, tens of thousands at 100k people) are read once and their scores
    tallied here; a group-by per score over the same rows took 30 statements."""
    _fill_pairs(conn, src, q)
    scores_of = {m.id: m.score_ids() for m in measures}
    by_score: dict[tuple[str, str], list[_Pair]] = {}
    found: set[str] = set()
    pairs = _PAIRS
    read = select(pairs.c.person_key, pairs.c.split, pairs.c.measure_id, pairs.c.base, pairs.c.exit)
    for person_key, split, measure_id, base_json, exit_json in conn.execute(read).all():
        score_ids = scores_of.get(measure_id)
        if score_ids is None:
            continue
        found.add(measure_id)
        base_scores, exit_scores = _json(base_json), _json(exit_json)
        if not (isinstance(base_scores, dict) and isinstance(exit_scores, dict)):
            continue
        for score_id in score_ids:
            base, exit_ = base_scores.get(score_id), exit_scores.get(score_id)
            if type(base) in _NUMBERS and type(exit_) in _NUMBERS:
                by_score.setdefault((measure_id, score_id), []).append(
                    (person_key, split, float(base), float(exit_))
                )
    rows: list[OutcomeRow] = []
    for m in measures:
        if m.id not in found:
            continue
        for score_id in m.score_ids():
            better = m.score_better(score_id)
            scored = by_score.get((m.id, score_id), [])
            by_split: dict[Any, list[_Pair]] = {}
            for pair in scored:
                by_split.setdefault(pair[1], []).append(pair)
            for key, label in [*splits, (_TOTAL, "Total")]:
                figures = _change(scored if key is _TOTAL else by_split.get(key, []), better)
                rows.append(
                    OutcomeRow(
                        measure_id=m.id,
                        measure=m.name,
                        score_id=score_id,
                        score=m.score_label(score_id),
                        better=better,
                        split=label,
                        people=figures["people"],
                        mean_baseline=figures.get("mean_baseline"),
                        mean_exit=figures.get("mean_exit"),
                        mean_change=figures.get("mean_change"),
                        share_improved=figures.get("share_improved"),
                    )
                )
    return rows


#: the total's place among the splits' keys (a pair whose enrolment is gone has split None)
_TOTAL = object()


def _json(value: Any) -> Any:
    """Scores as stored: JSON text (SQLite, and the temporary tables on PostgreSQL)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


# -- data quality -----------------------------------------------------------------------------

_COMPLETENESS = {
    "Participants": (
        ("age_band", "Date of birth (age band)"),
        ("gender", "Gender"),
        ("ethnicity", "Ethnicity"),
        ("postcode_district", "Postcode district"),
        ("consent_status", "Consent status"),
    ),
    "Enrolments": (
        ("referral_source", "Referral source"),
        ("referral_date", "Referral date"),
        ("start_date", "Start date"),
    ),
    "Sessions": (
        ("duration_minutes", "Duration"),
        ("session_type", "Session type"),
        ("mode", "Mode"),
        ("location_type", "Location type"),
    ),
}


def _has_severity(col, severity: str):
    """Whether a record's findings hold one of ``severity``. Most records have none, so an
    empty list is settled by its length before any entry is looked at (a table-valued
    ``json_each`` per record cost a return at 100k people about a second)."""
    entries = func.json_each(col).table_valued("value").alias()
    any_of = exists(
        select(literal(1))
        .select_from(entries)
        .where(func.json_extract(entries.c.value, "$.severity") == severity)
    )
    return case((func.coalesce(func.json_array_length(col), 0) == 0, False), else_=any_of)


def quality(conn: Connection, src: Source, q: Quarter, splits) -> list[Grid]:
    """Completeness of the fields a return reads, open warnings and errors, and records not
    yet accepted by the VRP, for the records in the quarter's figures."""
    t = _PEOPLE
    # each person reached, once per split, with their record's fields as read for the reach
    reached = (
        select(
            t.c.participant_id,
            t.c.split,
            *(t.c[name] for name, _ in _COMPLETENESS["Participants"]),
            t.c.sync_state,
            t.c.has_error,
            t.c.open_warning,
        )
        .where(t.c.measure == "reached")
        .distinct()
        .subquery("scope_people")
    )
    scoped = {
        "Participants": (select().select_from(reached), reached.c.split, reached),
        "Enrolments": (
            select().select_from(_ENROLMENTS).where(_ENROLMENTS.c.active == 1),
            _ENROLMENTS.c.split,
            _ENROLMENTS,
        ),
        "Sessions": (select().select_from(_SESSIONS), _SESSIONS.c.split, _SESSIONS),
    }
    grids: list[Grid] = []
    for record, fields in _COMPLETENESS.items():
        base, split, table = scoped[record]
        # (label, SQL sum, number format); a share is its sum over the count, so the total
        # comes from the splits' sums, with no second read of the records
        measures = [("Records in the quarter", func.count(), "#,##0")]
        for name, label in fields:
            col = table.c[name]
            filled = case(
                (and_(col.is_not(None), func.trim(func.cast(col, Text)) != ""), 1), else_=0
            )
            measures.append((f"{label}: complete", func.sum(filled), "0.0%"))
        # worked out when the records were read into the temporary tables
        read_from = {"Participants": src.people, "Enrolments": src.enrolments}
        with_findings = with_state = _has_quality(read_from.get(record, src.sessions))
        error, open_warning = table.c.has_error == 1, table.c.open_warning == 1
        if with_findings:
            measures.append(("With errors to fix", func.sum(case((error, 1), else_=0)), "#,##0"))
            measures.append(
                (
                    "Open warnings (no reason given)",
                    func.sum(case((open_warning, 1), else_=0)),
                    "#,##0",
                )
            )
        if with_state:
            measures.append(
                (
                    "Not yet accepted by the VRP",
                    func.sum(case((table.c.sync_state != "accepted", 1), else_=0)),
                    "#,##0",
                )
            )
        per_split = {
            row[0]: [float(v or 0) for v in row[1:]]
            for row in conn.execute(
                base.add_columns(split, *(m[1] for m in measures)).group_by(split)
            )
        }
        # every split's rows, those of no split listed included
        total = [sum(values[k] for values in per_split.values()) for k in range(len(measures))]
        zeros = [0.0] * len(measures)

        def shown(values: list[float], k: int, fmt: str) -> float:
            if fmt != "0.0%":
                return values[k]
            return values[k] / values[0] if values[0] else 0.0

        for k, (label, _, fmt) in enumerate(measures):
            cells = [[shown(per_split.get(key, zeros), k, fmt) for key, _ in splits]]
            grids.append(
                Grid(
                    measure=record,
                    breakdown=label,
                    rows=[label],
                    cols=[lbl for _, lbl in splits],
                    cells=cells,
                    row_totals=[shown(total, k, fmt)],
                    col_totals=cells[0],
                    grand=shown(total, k, fmt),
                    people=False,
                    number_format=fmt,
                )
            )
    return grids


# -- the whole return -------------------------------------------------------------------------


def figures(
    conn: Connection,
    src: Source,
    q: Quarter,
    measures: Sequence[MeasureDefinition],
    progress: Progress | None = None,
) -> Figures:
    report = progress or (lambda *_: None)
    pv, iv = src.providers, src.interventions
    providers = [dict(r._mapping) for r in conn.execute(select(pv).order_by(pv.c.code))]
    interventions = conn.execute(
        select(iv.c.id, iv.c.name, iv.c.provider_id).order_by(iv.c.name, iv.c.id)
    ).all()
    codes_by_provider = {pr["id"]: pr["code"] for pr in providers}
    if src.kind == "partnership":
        splits = [(pr["id"], f"{pr['name']} [{pr['code']}]") for pr in providers]
        names = {
            row.id: f"{row.name} [{codes_by_provider.get(row.provider_id, '?')}]"
            for row in interventions
        }
        split_name = "Provider"
    else:
        splits = _unique_labels([(row.id, row.name) for row in interventions])
        names = dict(splits)
        split_name = "Intervention"
    steps = 5
    report("Reading the quarter's sessions", 0, steps)
    sqlite = conn.dialect.name == "sqlite"  # a coordinator on PostgreSQL has no page cache
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size = {CACHE_SIZE}")
    try:
        _create_temporary(conn)
        _fill_sessions(conn, src, q)
        _fill_enrolments(conn, src, q)
        report("Counting people reached", 0, steps)
        reach_grids = reach(conn, src, q, splits, names)
        report("Counting sessions delivered", 1, steps)
        delivery_grids = delivery(conn, src, q, splits, names)
        report("Comparing questionnaires", 2, steps)
        outcome_rows = outcomes(conn, src, q, splits, measures)
        report("Checking data quality", 3, steps)
        quality_grids = quality(conn, src, q, splits)
        absent = absent_rows(conn, src) if src.register is not None else None
        batches = src.batches(conn, q)
    finally:
        _drop_temporary(conn)
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    report("Figures ready", 4, steps)
    result = Figures(
        quarter=q,
        kind=src.kind,
        providers=providers,
        splits=splits,
        split_name=split_name,
        reach=reach_grids,
        delivery=delivery_grids,
        outcomes=outcome_rows,
        quality=quality_grids,
        batches=batches,
        age_note=src.age_note,
    )
    result.absent = absent
    return result


def _unique_labels(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    out = []
    for key, label in pairs:
        seen[label] = seen.get(label, 0) + 1
        out.append((key, label if seen[label] == 1 else f"{label} ({seen[label]})"))
    return out
