"""A return's counts of people as one release, protected with the partnership's rule.

Every count is keyed by *what* it counts — the measure, the category, and the people it covers
(an intervention, a provider by code, or the whole partnership) — never by where it sits, so:

- the margin of people by split printed under every breakdown is one quantity;
- a provider's Total column and the partnership's column for that provider are one quantity,
  and so are the people reached in an intervention, whichever workbook prints them;
- ethnic groups are sums of their ethnicity categories.

Protection runs in two stages. The *core* (Reach and Outcomes) depends only on records that
travel to the VRP, so the coordinator can rebuild each provider's core from what it holds and
protect the partnership return knowing exactly what each provider publishes: a cell a provider
shows is never hidden by the partnership (it is already out), and the partnership adds
complementary suppressions elsewhere so that nothing a provider hid can be narrowed with both
workbooks side by side. The *quality* stage (Data quality counts, which only the provider holds)
is protected second, with the core already published.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable

from vrp_desktop import codes
from vrp_desktop.disclosure import Protection, Release, Rule, protect
from vrp_desktop.returns.aggregate import Figures, Grid, OutcomeRow

#: the breakdowns whose rows are categories of people (the rest of a grid is its margins)
ETHNIC_GROUP, ETHNICITY, INTERVENTION = "Ethnic group", "Ethnicity", "Intervention"
#: data-quality records that are people (participants) or people on an intervention
PEOPLE_RECORDS = ("Participants", "Enrolments")


@dataclasses.dataclass(frozen=True)
class ReturnProtection:
    rule: Rule
    core: Protection
    quality: Protection
    figures: Figures

    def reach(self, grid: Grid, i: int, j: int) -> int | str:
        return self.core.shown(reach_key(self.figures, grid, i, j))

    def outcome(self, row: OutcomeRow, j: int) -> int | str:
        return self.core.shown(outcome_key(self.figures, row, j))

    def quality_count(self, grid: Grid, j: int) -> int | str:
        return self.quality.shown(quality_key(self.figures, grid, j))

    def share(self, count: Hashable, denominator: int, share: float | None) -> float | str | None:
        """A share of people, shown only where neither it nor its complement discloses a
        small count and its denominator is shown."""
        if share is None:
            return None
        if isinstance(count, str):  # the denominator is hidden
            return self.rule.secondary_mark
        part = round(share * denominator)
        if self.rule.is_small(part) or self.rule.is_small(denominator - part):
            return self.rule.secondary_mark
        return share


# -- keys ---------------------------------------------------------------------------------------


def scopes(figures: Figures) -> list[frozenset]:
    """The people each column covers, the Total column last."""
    if figures.kind == "partnership":
        code = {p["id"]: p["code"] for p in figures.providers}
        cols = [frozenset({("provider", code.get(key, key))}) for key, _ in figures.splits]
        return [*cols, frozenset()]
    own = figures.providers[0]["code"] if figures.providers else ""
    cols = [frozenset({("intervention", key)}) for key, _ in figures.splits]
    return [*cols, frozenset({("provider", own)})]


def _category(grid: Grid, i: int, scope: frozenset, value: float) -> frozenset:
    code = grid.row_keys[i] if grid.row_keys is not None else grid.rows[i]
    # an intervention belongs to one provider: its people are the provider's too
    if grid.breakdown == INTERVENTION and code is not None and (value > 0 or not scope):
        return frozenset({("intervention", code)})
    return scope | {(grid.breakdown, code)}


def reach_key(figures: Figures, grid: Grid, i: int, j: int) -> tuple:
    """Key of cell (i, j) of a reach grid; ``i == len(rows)`` is the total row and
    ``j == len(cols)`` the total column."""
    scope = scopes(figures)[j]
    n_r = len(grid.rows)
    if i == n_r:
        return ("people", grid.measure, scope)
    value = grid.row_totals[i] if j == len(grid.cols) else grid.cells[i][j]
    return ("people", grid.measure, _category(grid, i, scope, value))


def outcome_key(figures: Figures, row: OutcomeRow, j: int) -> tuple:
    return ("paired", row.measure_id, row.score_id, scopes(figures)[j])


def quality_key(figures: Figures, grid: Grid, j: int) -> tuple:
    # only the provider holds these: keyed by who made the return, never shared
    return ("quality", figures.kind, grid.measure, grid.breakdown, scopes(figures)[j])


# -- releases -------------------------------------------------------------------------------


def _grid(release: Release, figures: Figures, grid: Grid) -> None:
    n_r, n_c = len(grid.rows), len(grid.cols)

    def key(i, j):
        return reach_key(figures, grid, i, j)

    release.grid(
        [[(key(i, j), grid.cells[i][j]) for j in range(n_c)] for i in range(n_r)],
        [(key(i, n_c), grid.row_totals[i]) for i in range(n_r)],
        [(key(n_r, j), grid.col_totals[j]) for j in range(n_c)],
        (key(n_r, n_c), grid.grand),
    )


def _ethnic_groups(release: Release, figures: Figures, grids: list[Grid]) -> None:
    """Each ethnic group is the sum of its categories, column by column."""
    by = {(g.measure, g.breakdown): g for g in grids}
    for (measure, breakdown), group in by.items():
        detail = by.get((measure, ETHNICITY))
        if breakdown != ETHNIC_GROUP or detail is None or detail.row_keys is None:
            continue
        for gi, gcode in enumerate(group.row_keys or []):
            members = [
                di
                for di, dcode in enumerate(detail.row_keys)
                if codes._ETHNIC_GROUP_OF.get(dcode, dcode) == gcode
            ]
            if not members:
                continue
            for j in range(len(group.cols) + 1):
                release.relate(
                    reach_key(figures, group, gi, j),
                    [reach_key(figures, detail, di, j) for di in members],
                )


def _outcomes(release: Release, figures: Figures) -> None:
    groups: dict[tuple[str, str], list[OutcomeRow]] = {}
    for o in figures.outcomes:
        groups.setdefault((o.measure_id, o.score_id), []).append(o)
    first_of: dict[str, list[OutcomeRow]] = {}
    for parts in groups.values():
        keys = [release.cell(outcome_key(figures, o, j), o.people) for j, o in enumerate(parts)]
        release.relate(keys[-1], keys[:-1])
        # two scores of one questionnaire usually pair the same people: one quantity then
        first = first_of.setdefault(parts[0].measure_id, parts)
        if first is not parts:
            for j, (a, b) in enumerate(zip(first, parts, strict=True)):
                if a.people == b.people:
                    release.same(outcome_key(figures, a, j), outcome_key(figures, b, j))


def core_release(figures: Figures) -> Release:
    """Reach and Outcomes: the counts every workbook of the period shares."""
    release = Release()
    for grid in figures.reach:
        _grid(release, figures, grid)
    _ethnic_groups(release, figures, figures.reach)
    _outcomes(release, figures)
    return release


def people_quality(figures: Figures) -> list[Grid]:
    """The data-quality rows that count people (not shares, not sessions)."""
    return [
        g for g in figures.quality if g.measure in PEOPLE_RECORDS and g.number_format == "#,##0"
    ]


def quality_release(figures: Figures) -> Release:
    release = Release()
    reached = next((g for g in figures.reach if g.measure == "People reached"), None)
    for grid in people_quality(figures):
        n_c = len(grid.cols)
        keys = [
            release.cell(quality_key(figures, grid, j), v)
            for j, v in enumerate([*grid.cells[0], grid.grand])
        ]
        release.relate(keys[-1], keys[:-1])
        if reached and grid.measure == "Participants" and grid.breakdown.startswith("Records"):
            totals = [*reached.col_totals, reached.grand]
            for j in range(n_c + 1):  # records and people usually coincide: one quantity then
                if totals[j] == [*grid.cells[0], grid.grand][j]:
                    other = release.cell(
                        reach_key(figures, reached, len(reached.rows), j), totals[j]
                    )
                    release.same(keys[j], other)
    return release


def protect_return(
    figures: Figures, rule: Rule, already_published: Iterable[Protection] = ()
) -> ReturnProtection:
    """Both stages; ``already_published`` are the cores of workbooks already out for the
    period (for the partnership: each provider's)."""
    core = protect(core_release(figures), rule, already_published)
    quality = protect(quality_release(figures), rule, [core])
    return ReturnProtection(rule, core, quality, figures)
