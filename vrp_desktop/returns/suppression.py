"""Small-number suppression for published counts of people.

Primary: a count from 1 to ``threshold - 1`` is hidden (shown as ``<5`` by default); zero is
shown. Secondary: a hidden count must not be recoverable by subtracting the visible cells of a
row or column from its total. Totals are computed before suppression and may be hidden too.

The table is seen as an extended grid: data cells plus a total column, a total row and the
grand total, where every row and every column "sums to zero" once totals are negated. A hidden
entry can be worked out from the visible ones exactly when, in the bipartite graph of rows and
columns joined by hidden entries, its edge is a bridge (it lies on no cycle). So we keep adding
the cheapest rectangle of extra hidden cells through any bridge until none is left.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

DEFAULT_THRESHOLD = 5
#: what a secondary-suppressed cell shows (ONS convention: "confidential")
SECONDARY_MARK = "[c]"

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
    """Decide which entries to hide. ``threshold`` 1 (or less) hides nothing."""
    grid = extended(cells, row_totals, col_totals, grand)
    n_r, n_c = len(grid), len(grid[0])
    primary = {(i, j) for i in range(n_r) for j in range(n_c) if 0 < grid[i][j] < max(threshold, 1)}
    hidden = set(primary)
    while True:
        bridge = _find_bridge(hidden)
        if bridge is None:
            break
        hidden |= _cheapest_rectangle(grid, hidden, bridge)
    return Suppression(frozenset(primary), frozenset(hidden - primary))


def _neighbours(hidden: set[Pos]) -> dict[tuple[str, int], list[tuple[str, int]]]:
    graph: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for i, j in hidden:
        graph.setdefault(("r", i), []).append(("c", j))
        graph.setdefault(("c", j), []).append(("r", i))
    return graph


def _find_bridge(hidden: set[Pos]) -> Pos | None:
    """A hidden entry on no cycle of the row-column graph (so it could be worked out)."""
    graph = _neighbours(hidden)
    for i, j in sorted(hidden):
        start, goal = ("r", i), ("c", j)
        seen, stack = {start}, [start]
        found = False
        while stack and not found:
            node = stack.pop()
            for other in graph[node]:
                if node == start and other == goal:
                    continue  # the edge itself
                if other == goal:
                    found = True
                    break
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        if not found:
            return (i, j)
    return None


def _cheapest_rectangle(grid: list[list[int]], hidden: set[Pos], bridge: Pos) -> set[Pos]:
    """The extra cells that close a rectangle through ``bridge``, hiding as little as possible:
    fewest totals first (the grand total last of all), then the smallest counts."""
    r, c = bridge
    n_r, n_c = len(grid), len(grid[0])
    best: tuple[tuple[int, int, int, int], set[Pos]] | None = None
    for r2 in range(n_r):
        if r2 == r:
            continue
        for c2 in range(n_c):
            if c2 == c:
                continue
            extra = {p for p in ((r, c2), (r2, c2), (r2, c)) if p not in hidden}
            cost = (
                sum(p == (n_r - 1, n_c - 1) for p in extra),
                sum(p[0] == n_r - 1 or p[1] == n_c - 1 for p in extra),
                sum(grid[i][j] == 0 for i, j in extra),  # a hidden zero protects little
                sum(grid[i][j] for i, j in extra),
            )
            if best is None or cost < best[0]:
                best = (cost, extra)
    if best is None:  # a 1x1 grid cannot happen: there is always a total row and column
        raise ValueError("a table needs at least one row and one column")
    return best[1]
