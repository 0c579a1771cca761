"""The delivery sheet's attendance rate: attendances as a share of every register row.

Absences are register rows too (a group session's register is its roster), so the rate is
present / (present + not present) over the quarter's delivered sessions. The present count is
the Attendances figure already worked out; only the not-present rows are read here, from the
small partial index a provider's store keeps for them (``Source.not_present``). A rate made of
fewer register rows than the rule's threshold is not shown.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import Connection, func, select

from vrp_desktop import codes
from vrp_desktop.disclosure import Rule
from vrp_desktop.returns.aggregate import Figures, Grid
from vrp_desktop.returns.quarters import Quarter
from vrp_desktop.returns.source import Source

RATE = "Attendance rate (of register rows)"
#: the delivery breakdowns and the session column each groups by
_BY = {"Session type": "session_type", "Intervention": "intervention_id"}


def rates(conn: Connection, src: Source, q: Quarter, figures: Figures) -> dict[str, Any]:
    """Not-present register rows of the quarter's delivered sessions, by breakdown, category
    and split: ``{breakdown: {(category, split): rows}}``. Already worked out with the figures
    when the source has a register clustered by start time."""
    if figures.absent is not None:
        return figures.absent
    s, i = src.sessions, src.interventions
    lo, hi = _bounds(q)
    if src.not_present is not None:
        n = src.not_present
    else:
        a = src.attendances
        n = (
            select(a.c.session_id, a.c.participant_id)
            .where(a.c.status.not_in(sorted(codes.PRESENT_STATUSES)))
            .subquery("not_present")
        )
    split = i.c.provider_id if src.kind == "partnership" else i.c.id
    rows = conn.execute(
        select(s.c.session_type, s.c.intervention_id, split.label("split"), func.count())
        .select_from(n)
        .join(s, s.c.id == n.c.session_id)
        .join(i, i.c.id == s.c.intervention_id)
        .where(s.c.status == "delivered", s.c.starts_at >= lo, s.c.starts_at < hi)
        .group_by(s.c.session_type, s.c.intervention_id, split)
    ).all()
    out: dict[str, dict[tuple[Hashable, Hashable], int]] = {b: {} for b in _BY}
    for session_type, intervention_id, key, count in rows:
        for breakdown, cat in (("Session type", session_type), ("Intervention", intervention_id)):
            cell = out[breakdown]
            cell[(cat, key)] = cell.get((cat, key), 0) + count
    return out


def _bounds(q: Quarter):
    import datetime as dt

    return dt.datetime.combine(q.start, dt.time()), dt.datetime.combine(q.next().start, dt.time())


def with_rates(figures: Figures, absent: dict[str, Any], rule: Rule) -> list[Grid]:
    """The delivery grids with an attendance-rate grid after each breakdown's attendances."""
    out: list[Grid] = []
    for grid in figures.delivery:
        out.append(grid)
        if grid.measure == "Attendances" and grid.breakdown in absent:
            out.append(
                _rate_grid(grid, [k for k, _ in figures.splits], absent[grid.breakdown], rule)
            )
    return out


def _rate_grid(present: Grid, splits: list, absent: dict, rule: Rule) -> Grid:
    keys = present.row_keys if present.row_keys is not None else present.rows

    def rate(there: float, away: int) -> float | str | None:
        rows = there + away
        if rows == 0:
            return None  # no register: no rate
        if rule.active and rows < rule.threshold:
            return rule.secondary_mark  # too few register rows to show
        return there / rows

    away = [[absent.get((k, c), 0) for c in splits] for k in keys]
    row_away = [sum(r) for r in away]
    col_away = [sum(r[j] for r in away) for j in range(len(splits))]
    return Grid(
        measure=RATE,
        breakdown=present.breakdown,
        rows=present.rows,
        cols=present.cols,
        cells=[
            [rate(v, a) for v, a in zip(row, arow, strict=True)]
            for row, arow in zip(present.cells, away, strict=True)
        ],
        row_totals=[rate(v, a) for v, a in zip(present.row_totals, row_away, strict=True)],
        col_totals=[rate(v, a) for v, a in zip(present.col_totals, col_away, strict=True)],
        grand=rate(present.grand, sum(row_away)),
        people=False,
        number_format="0.0%",
        row_keys=present.row_keys,
    )
