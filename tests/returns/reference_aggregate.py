"""The return's figures worked out the straightforward way: the first implementation of
``vrp_desktop.returns.aggregate``, kept unchanged as the oracle the optimised one must equal
(every group-by straight over the source tables; no temporary tables of the quarter's sessions,
attendees or enrolments, no covering indexes relied on).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    distinct,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
)

from vrp_desktop import codes
from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.returns.source import Source
from vrp_desktop.store.models import Session
from vrp_desktop.store.portable import json_number

Progress = Callable[[str, int, int], None]
NOT_RECORDED = "Not recorded"
TIER_LABELS = {"universal": "Universal", "targeted": "Targeted", "specialist": "Specialist"}
MEASURES = (("reached", "People reached"), ("referred", "New referrals"))


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


# -- the temporary table of people reached and referred --------------------------------------

_metadata = MetaData()
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
    prefixes=["TEMPORARY"],
)


def _bounds(q: Quarter) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(q.start, dt.time()), dt.datetime.combine(q.next().start, dt.time())


def _split_col(src: Source, interventions):
    return interventions.c.provider_id if src.kind == "partnership" else interventions.c.id


def _fill_people(conn: Connection, src: Source, q: Quarter) -> None:
    a, s, e, p, i = src.attendances, src.sessions, src.enrolments, src.people, src.interventions
    lo, hi = _bounds(q)
    attended = (
        select(a.c.participant_id, s.c.intervention_id)
        .join(s, s.c.id == a.c.session_id)
        .where(
            s.c.status == "delivered",
            a.c.status.in_(sorted(codes.PRESENT_STATUSES)),
            s.c.starts_at >= lo,
            s.c.starts_at < hi,
        )
    )
    active = and_(e.c.start_date <= q.end, or_(e.c.end_date.is_(None), e.c.end_date >= q.start))
    enrolled = select(e.c.participant_id, e.c.intervention_id).where(active)
    pairs = union(attended, enrolled).subquery("pairs")
    e2 = e.alias("e2")
    reached = (
        select(
            literal("reached").label("measure"),
            p.c.person_key,
            p.c.id,
            _split_col(src, i),
            i.c.id,
            p.c.age_band,
            p.c.gender,
            p.c.ethnicity,
            i.c.tier,
            i.c.setting,
            e2.c.referral_source,
        )
        .select_from(pairs)
        .join(p, p.c.id == pairs.c.participant_id)
        .join(i, i.c.id == pairs.c.intervention_id)
        .outerjoin(
            e2,
            and_(
                e2.c.participant_id == pairs.c.participant_id,
                e2.c.intervention_id == pairs.c.intervention_id,
                e2.c.start_date <= q.end,
                or_(e2.c.end_date.is_(None), e2.c.end_date >= q.start),
            ),
        )
        .distinct()
    )
    referred = (
        select(
            literal("referred").label("measure"),
            p.c.person_key,
            p.c.id,
            _split_col(src, i),
            i.c.id,
            p.c.age_band,
            p.c.gender,
            p.c.ethnicity,
            i.c.tier,
            i.c.setting,
            e.c.referral_source,
        )
        .select_from(e)
        .join(p, p.c.id == e.c.participant_id)
        .join(i, i.c.id == e.c.intervention_id)
        .where(e.c.referral_date >= q.start, e.c.referral_date <= q.end)
        .distinct()
    )
    _PEOPLE.drop(conn, checkfirst=True)
    _PEOPLE.create(conn)
    names = [c.name for c in _PEOPLE.columns]
    conn.execute(insert(_PEOPLE).from_select(names, reached))
    conn.execute(insert(_PEOPLE).from_select(names, referred))


def _count_grid(
    conn: Connection,
    measure: tuple[str, str],
    breakdown: str,
    expr,
    categories: list[tuple[Any, str]],
    splits: list[tuple[str, str]],
    totals: tuple[dict[str, int], int],
) -> Grid:
    t = _PEOPLE
    where = t.c.measure == measure[0]
    people = func.count(distinct(t.c.person_key))
    cell = {
        (row.cat, row.split): row.n
        for row in conn.execute(
            select(expr.label("cat"), t.c.split, people.label("n"))
            .where(where)
            .group_by(expr, t.c.split)
        )
    }
    by_row = {
        row.cat: row.n
        for row in conn.execute(
            select(expr.label("cat"), people.label("n")).where(where).group_by(expr)
        )
    }
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
    )


def reach(conn: Connection, src: Source, q: Quarter, splits, intervention_names) -> list[Grid]:
    _fill_people(conn, src, q)
    t = _PEOPLE
    group_of = dict(codes._ETHNIC_GROUP_OF)
    ethnic_group = case(
        *((t.c.ethnicity == code, group) for code, group in group_of.items()),
        else_=t.c.ethnicity,
    )
    found = {
        name: {r[0] for r in conn.execute(select(col).distinct())}
        for name, col in (("setting", t.c.setting), ("referral_source", t.c.referral_source))
    }
    settings = _framework_codes(conn, "settings")
    sources = _framework_codes(conn, "referral_sources")
    breakdowns = [
        ("Age band", t.c.age_band, _ordered(set(), {b: b for b in codes.AGE_BANDS})),
        ("Gender", t.c.gender, _ordered(set(), dict(codes.GENDERS))),
        ("Ethnic group", ethnic_group, _ordered(set(), dict(codes.ETHNIC_GROUPS))),
        ("Ethnicity", t.c.ethnicity, _ordered(set(), dict(codes.ETHNICITIES))),
        ("Tier", t.c.tier, _ordered(set(), TIER_LABELS)),
        ("Setting", t.c.setting, _ordered(found["setting"], settings)),
        ("Referral source", t.c.referral_source, _ordered(found["referral_source"], sources)),
    ]
    if src.kind == "partnership":
        breakdowns.append(("Intervention", t.c.intervention_id, list(intervention_names.items())))
    grids = []
    for measure in MEASURES:
        where = t.c.measure == measure[0]
        people = func.count(distinct(t.c.person_key))
        col_totals = dict(
            conn.execute(select(t.c.split, people).where(where).group_by(t.c.split)).all()
        )
        grand = conn.execute(select(people).where(where)).scalar_one()
        for name, expr, categories in breakdowns:
            grids.append(
                _count_grid(conn, measure, name, expr, categories, splits, (col_totals, grand))
            )
    return grids


# -- delivery ---------------------------------------------------------------------------------


def delivery(conn: Connection, src: Source, q: Quarter, splits, intervention_names) -> list[Grid]:
    """Delivered sessions, hours, attendances and contact hours by session type (and, for the
    partnership, by intervention). Sums are additive, so totals come from the same group-by."""
    a, s, i = src.attendances, src.sessions, src.interventions
    lo, hi = _bounds(q)
    s_in = s.alias("s_in")
    present = (  # attendees of the quarter's sessions only, not of every session ever held
        select(a.c.session_id, func.count().label("n"))
        .join(s_in, s_in.c.id == a.c.session_id)
        .where(
            a.c.status.in_(sorted(codes.PRESENT_STATUSES)),
            s_in.c.starts_at >= lo,
            s_in.c.starts_at < hi,
        )
        .group_by(a.c.session_id)
        .subquery("present")
    )
    attendees = func.coalesce(present.c.n, 0)
    minutes = func.coalesce(s.c.duration_minutes, 0)
    metrics = (
        ("Sessions delivered", func.count(s.c.id), "#,##0"),
        ("Hours delivered", func.sum(minutes) / 60.0, "#,##0.0"),
        ("Attendances", func.sum(attendees), "#,##0"),
        ("Contact hours (attendees × duration)", func.sum(attendees * minutes) / 60.0, "#,##0.0"),
    )
    split = _split_col(src, i)
    base = (
        select()
        .select_from(s)
        .join(i, i.c.id == s.c.intervention_id)
        .outerjoin(present, present.c.session_id == s.c.id)
        .where(s.c.status == "delivered", s.c.starts_at >= lo, s.c.starts_at < hi)
    )
    breakdowns = [
        ("Session type", s.c.session_type, _ordered(set(), dict(codes.SESSION_TYPES))),
    ]
    if src.kind == "partnership":
        breakdowns.append(("Intervention", i.c.id, list(intervention_names.items())))
    grids = []
    for title, expr, categories in breakdowns:
        rows = conn.execute(
            base.add_columns(
                expr.label("cat"),
                split.label("split"),
                *(m[1].label(f"m{k}") for k, m in enumerate(metrics)),
            ).group_by(expr, split)
        ).all()
        known = {code for code, _ in categories}
        categories = categories + [
            (r.cat, str(r.cat)) for r in rows if r.cat not in known and r.cat is not None
        ]
        for k, (label, _, fmt) in enumerate(metrics):
            value = {(r.cat, r.split): float(getattr(r, f"m{k}") or 0) for r in rows}
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
                )
            )
    return grids


# -- outcomes ---------------------------------------------------------------------------------


def outcomes(
    conn: Connection, src: Source, q: Quarter, splits, measures: Sequence[MeasureDefinition]
) -> list[OutcomeRow]:
    """People with an exit questionnaire in the quarter and a baseline on or before it.

    For each person and measure: the latest exit in the quarter, paired with the latest
    baseline on or before that exit. Change = exit - baseline, per score.
    """
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
    x = select(ranked_exit).where(ranked_exit.c.rn == 1).subquery("x")
    ranked_base = (
        select(
            r.c.participant_id,
            r.c.measure_id,
            r.c.scores,
            func.row_number()
            .over(
                partition_by=(r.c.participant_id, r.c.measure_id),
                order_by=(r.c.completed_on.desc(), r.c.id.desc()),
            )
            .label("rn"),
        )
        .join(x, and_(x.c.participant_id == r.c.participant_id, x.c.measure_id == r.c.measure_id))
        .where(r.c.timepoint == "baseline", r.c.completed_on <= x.c.completed_on)
        .subquery("ranked_base")
    )
    b = select(ranked_base).where(ranked_base.c.rn == 1).subquery("b")
    pairs = (
        select(
            p.c.person_key,
            _split_col(src, i).label("split"),
            x.c.measure_id,
            b.c.scores.label("base"),
            x.c.scores.label("exit"),
        )
        .select_from(x)
        .join(b, and_(b.c.participant_id == x.c.participant_id, b.c.measure_id == x.c.measure_id))
        .join(p, p.c.id == x.c.participant_id)
        .outerjoin(e, e.c.id == x.c.enrolment_id)
        .outerjoin(i, i.c.id == e.c.intervention_id)
        .subquery("pairs")
    )
    found = [row[0] for row in conn.execute(select(pairs.c.measure_id).distinct())]
    by_id = {m.id: m for m in measures}
    rows: list[OutcomeRow] = []
    for measure_id in [m.id for m in measures if m.id in found]:
        m = by_id[measure_id]
        for score_id in m.score_ids():
            # the portable lookup: on PostgreSQL the coordinator's scores are text holding JSON
            base = json_number(pairs.c.base, score_id)
            exit_ = json_number(pairs.c.exit, score_id)
            better = m.score_better(score_id)
            improved = (
                (exit_ < base)
                if better == "lower"
                else (exit_ > base)
                if better == "higher"
                else None
            )
            columns = [
                func.count(distinct(pairs.c.person_key)).label("n"),
                func.avg(base).label("mb"),
                func.avg(exit_).label("mx"),
                func.avg(exit_ - base).label("mc"),
                (
                    func.avg(case((improved, 1.0), else_=0.0))
                    if improved is not None
                    else literal(None)
                ).label("share"),
            ]
            where = (pairs.c.measure_id == measure_id, base.is_not(None), exit_.is_not(None))
            per_split = {
                row.split: row
                for row in conn.execute(
                    select(pairs.c.split, *columns).where(*where).group_by(pairs.c.split)
                )
            }
            total = conn.execute(select(*columns).where(*where)).one()
            for key, label in [*splits, (None, "Total")]:
                row = total if key is None else per_split.get(key)
                rows.append(
                    OutcomeRow(
                        measure_id=measure_id,
                        measure=m.name,
                        score_id=score_id,
                        score=m.score_label(score_id),
                        better=better,
                        split=label,
                        people=int(row.n) if row else 0,
                        mean_baseline=row.mb if row and row.n else None,
                        mean_exit=row.mx if row and row.n else None,
                        mean_change=row.mc if row and row.n else None,
                        share_improved=row.share if row and row.n else None,
                    )
                )
    return rows


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


def _findings_of(table):
    """A record's findings JSON and warning reason. A provider's sessions arrive with the
    store's generated flags in their place; those are checked here against the JSON itself,
    read from the session table."""
    if "findings" in table.c:
        return table.c.findings, table.c.warning_reason
    if "has_error" in table.c:
        raw = Session.__table__
        return tuple(
            select(raw.c[name])
            .where(raw.c.id == table.c.id)
            .correlate_except(raw)  # to the sessions read, however deep it is used
            .scalar_subquery()
            for name in ("findings", "warning_reason")
        )
    return None, None


def _has_severity(col, severity: str):
    entries = func.json_each(col).table_valued("value").alias()
    return exists(
        select(literal(1))
        .select_from(entries)
        .where(func.json_extract(entries.c.value, "$.severity") == severity)
    )


def quality(conn: Connection, src: Source, q: Quarter, splits) -> list[Grid]:
    """Completeness of the fields a return reads, open warnings and errors, and records not
    yet accepted by the VRP, for the records in the quarter's figures."""
    p, e, s, i = src.people, src.enrolments, src.sessions, src.interventions
    t = _PEOPLE
    lo, hi = _bounds(q)
    reached = (
        select(t.c.participant_id, t.c.split)
        .where(t.c.measure == "reached")
        .distinct()
        .subquery("scope_people")
    )
    scoped = {
        "Participants": (
            select().select_from(p).join(reached, reached.c.participant_id == p.c.id),
            reached.c.split,
            p,
        ),
        "Enrolments": (
            select()
            .select_from(e)
            .join(i, i.c.id == e.c.intervention_id)
            .where(e.c.start_date <= q.end, or_(e.c.end_date.is_(None), e.c.end_date >= q.start)),
            _split_col(src, i),
            e,
        ),
        "Sessions": (
            select()
            .select_from(s)
            .join(i, i.c.id == s.c.intervention_id)
            .where(s.c.starts_at >= lo, s.c.starts_at < hi),
            _split_col(src, i),
            s,
        ),
    }
    grids: list[Grid] = []
    for record, fields in _COMPLETENESS.items():
        base, split, table = scoped[record]
        measures = [("Records in the quarter", func.count(), "#,##0")]
        for name, label in fields:
            col = table.c[name]
            filled = case(
                (and_(col.is_not(None), func.trim(func.cast(col, Text)) != ""), 1.0), else_=0.0
            )
            measures.append((f"{label}: complete", func.avg(filled), "0.0%"))
        findings, warning_reason = _findings_of(table)
        if findings is not None:
            measures.append(
                (
                    "With errors to fix",
                    func.sum(case((_has_severity(findings, "error"), 1), else_=0)),
                    "#,##0",
                )
            )
            open_warning = and_(
                _has_severity(findings, "warning"),
                or_(warning_reason.is_(None), warning_reason == ""),
            )
            measures.append(
                (
                    "Open warnings (no reason given)",
                    func.sum(case((open_warning, 1), else_=0)),
                    "#,##0",
                )
            )
        if "sync_state" in table.c:
            measures.append(
                (
                    "Not yet accepted by the VRP",
                    func.sum(case((table.c.sync_state != "accepted", 1), else_=0)),
                    "#,##0",
                )
            )
        per_split = {
            row[0]: row[1:]
            for row in conn.execute(
                base.add_columns(split, *(m[1] for m in measures)).group_by(split)
            )
        }
        total = conn.execute(base.add_columns(*(m[1] for m in measures))).one()
        for k, (label, _, fmt) in enumerate(measures):
            cells = [
                [float((per_split.get(key) or [0] * len(measures))[k] or 0) for key, _ in splits]
            ]
            grids.append(
                Grid(
                    measure=record,
                    breakdown=label,
                    rows=[label],
                    cols=[lbl for _, lbl in splits],
                    cells=cells,
                    row_totals=[float(total[k] or 0)],
                    col_totals=cells[0],
                    grand=float(total[k] or 0),
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
    report("Counting people reached", 0, steps)
    reach_grids = reach(conn, src, q, splits, names)
    report("Counting sessions delivered", 1, steps)
    delivery_grids = delivery(conn, src, q, splits, names)
    report("Comparing questionnaires", 2, steps)
    outcome_rows = outcomes(conn, src, q, splits, measures)
    report("Checking data quality", 3, steps)
    quality_grids = quality(conn, src, q, splits)
    batches = src.batches(conn, q)
    _PEOPLE.drop(conn, checkfirst=True)
    report("Figures ready", 4, steps)
    return Figures(
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


def _unique_labels(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    out = []
    for key, label in pairs:
        seen[label] = seen.get(label, 0) + 1
        out.append((key, label if seen[label] == 1 else f"{label} ({seen[label]})"))
    return out
