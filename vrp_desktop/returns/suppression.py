"""Small-number suppression of one table (kept for callers of the first version).

Primary: a count from 1 to ``threshold - 1`` is hidden (shown as ``<5`` by default); zero is
shown. Complementary: further cells are hidden until no hidden count's feasible range, for an
attacker who knows the rule (a ``<5`` is 1 to 4, a ``[c]`` any count), is narrower than the
rule's. The work is done by ``vrp_desktop.disclosure``, which protects many tables and
workbooks as one system; ``suppress`` here is that for one table on its own. Positions are
``(row, col)`` in the table extended with its total column, total row and grand total.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from vrp_desktop.disclosure import DEFAULT_THRESHOLD, SECONDARY_MARK, Release, Rule, protect

__all__ = [
    "DEFAULT_THRESHOLD",
    "SECONDARY_MARK",
    "Suppression",
    "extended",
    "primary_mark",
    "suppress",
]

Pos = tuple[int, int]


def primary_mark(threshold: int) -> str:
    return f"<{threshold}"


@dataclasses.dataclass(frozen=True)
class Suppression:
    """Which entries of the extended grid are hidden, and why.

    Positions are ``(row, col)``; ``row == n_rows`` is the total row and ``col == n_cols`` the
    total column, so ``(n_rows, n_cols)`` is the grand total.
    """

    primary: frozenset[Pos]
    secondary: frozenset[Pos]

    @property
    def hidden(self) -> frozenset[Pos]:
        return self.primary | self.secondary

    def mark(self, pos: Pos, threshold: int) -> str | None:
        if pos in self.primary:
            return primary_mark(threshold)
        if pos in self.secondary:
            return SECONDARY_MARK
        return None


def extended(
    cells: Sequence[Sequence[int]],
    row_totals: Sequence[int] | None = None,
    col_totals: Sequence[int] | None = None,
    grand: int | None = None,
) -> list[list[int]]:
    """The grid with its totals; totals not given are the sums (computed before suppression)."""
    rows = [list(r) for r in cells]
    n_cols = len(rows[0]) if rows else len(col_totals or ())
    if row_totals is None:
        row_totals = [sum(r) for r in rows]
    if col_totals is None:
        col_totals = [sum(r[j] for r in rows) for j in range(n_cols)]
    if grand is None:
        grand = sum(row_totals)
    grid = [[*r, t] for r, t in zip(rows, row_totals, strict=True)]
    grid.append([*col_totals, grand])
    return grid


def suppress(
    cells: Sequence[Sequence[int]],
    row_totals: Sequence[int] | None = None,
    col_totals: Sequence[int] | None = None,
    grand: int | None = None,
    *,
    threshold: int = DEFAULT_THRESHOLD,
) -> Suppression:
    """Decide which entries of one table to hide. ``threshold`` 1 (or less) hides nothing.

    A thin wrapper over ``vrp_desktop.disclosure`` for one table on its own; a workbook
    protects all its tables together (``report``)."""
    grid = extended(cells, row_totals, col_totals, grand)
    if threshold <= 1:
        return Suppression(frozenset(), frozenset())
    n_r, n_c = len(grid), len(grid[0])
    release = Release()
    release.grid(
        [[((i, j), grid[i][j]) for j in range(n_c - 1)] for i in range(n_r - 1)],
        [((i, n_c - 1), grid[i][n_c - 1]) for i in range(n_r - 1)],
        [((n_r - 1, j), grid[n_r - 1][j]) for j in range(n_c - 1)],
        ((n_r - 1, n_c - 1), grid[n_r - 1][n_c - 1]),
    )
    done = protect(release, Rule(threshold))
    return Suppression(done.primary, done.secondary)
