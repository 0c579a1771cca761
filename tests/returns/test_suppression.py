"""Small-number suppression: no small count shown, none recoverable from a total."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from vrp_desktop.returns.suppression import SECONDARY_MARK, extended, suppress


def _determined(grid, hidden):
    """Hidden entries that the visible entries and the row/column sums pin down exactly
    (an independent check: linear algebra over the constraints, not the graph argument)."""
    unknowns = sorted(hidden)
    index = {p: k for k, p in enumerate(unknowns)}
    n_r, n_c = len(grid), len(grid[0])
    equations = []
    for i in range(n_r):
        row = [Fraction(0)] * len(unknowns)
        for j in range(n_c):
            if (i, j) in index:
                row[index[(i, j)]] += -1 if j == n_c - 1 else 1
        equations.append(row)
    for j in range(n_c):
        col = [Fraction(0)] * len(unknowns)
        for i in range(n_r):
            if (i, j) in index:
                col[index[(i, j)]] += -1 if i == n_r - 1 else 1
        equations.append(col)
    base = _rank(equations)
    found = []
    for p, k in index.items():
        unit = [Fraction(int(m == k)) for m in range(len(unknowns))]
        if _rank([*equations, unit]) == base:
            found.append(p)
    return found


def _rank(rows):
    rows = [list(r) for r in rows if any(r)]
    rank, n = 0, len(rows[0]) if rows else 0
    for col in range(n):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def test_primary_small_counts_are_hidden_and_zero_is_shown():
    s = suppress([[0, 12, 7], [9, 3, 20]])
    assert (1, 1) in s.primary
    assert (0, 0) not in s.hidden  # zero is shown
    assert s.mark((1, 1), 5) == "<5"


def test_secondary_protects_a_cell_a_total_would_reveal():
    cells = [[10, 3, 8], [6, 9, 11], [7, 12, 15]]
    s = suppress(cells)
    assert s.primary == {(0, 1)}
    # a second cell in the same row and column is hidden, and the rectangle closes
    assert len(s.secondary) == 3
    assert any(i == 0 for i, _ in s.secondary) and any(j == 1 for _, j in s.secondary)
    assert all(s.mark(p, 5) == SECONDARY_MARK for p in s.secondary)
    assert not _determined(extended(cells), s.hidden)


def test_a_small_total_is_hidden_too():
    s = suppress([[2, 0], [0, 0]])
    grid = extended([[2, 0], [0, 0]])
    assert {(0, 0), (0, 2), (2, 0), (2, 2)} <= s.hidden
    assert not _determined(grid, s.hidden)


def test_threshold_one_hides_nothing():
    assert not suppress([[1, 2], [3, 4]], threshold=1).hidden


def test_single_row_table():
    s = suppress([[3, 40, 22]])
    assert not _determined(extended([[3, 40, 22]]), s.hidden)


tables = st.integers(1, 5).flatmap(
    lambda cols: st.lists(
        st.lists(st.integers(0, 14), min_size=cols, max_size=cols), min_size=1, max_size=5
    )
)


@settings(max_examples=300, deadline=None)
@given(cells=tables, threshold=st.integers(3, 10))  # a <2 is 1 by the rule itself
def test_no_visible_small_count_and_nothing_recoverable(cells, threshold):
    grid = extended(cells)
    s = suppress(cells, threshold=threshold)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if 0 < value < threshold:  # hidden: as <t, or as [c] where <t would pin it
                assert (i, j) in s.hidden
            if (i, j) in s.primary:
                assert 0 < value < threshold
    assert not _determined(grid, s.hidden)
    assert not (s.primary & s.secondary)


@settings(max_examples=100, deadline=None)
@given(cells=tables)
def test_tables_with_no_small_counts_are_untouched(cells):
    big = [[v * 5 for v in row] for row in cells]  # 0 or >= 5 everywhere, totals too
    assert not suppress(big).hidden
