"""An attacker who knows the rule, working only from what the workbooks show.

Written independently of ``vrp_desktop.disclosure``: it reads the .xlsx files back with
openpyxl, turns every hidden cell into an integer unknown (``<t`` is 1..t-1, ``[c]`` any count
>= 0), writes down every relation a reader can rely on — each table's rows and columns against
its totals, the same margin printed in every breakdown, ethnic groups as sums of their
categories, a provider's own return against its column in the partnership return — and solves
an integer program (HiGHS through scipy.optimize.milp) for each hidden cell's smallest and
largest value.

The attacker is *informed*: a total is taken to equal the sum of its parts whenever it really
does (read from the same return exported without suppression), and two counts that really are
equal (people reached and participant records; the people paired for two scores of one
questionnaire) are taken as one. That is the strongest position a reader could guess into.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import openpyxl
from scipy.optimize import Bounds, LinearConstraint, milp

from vrp_desktop import codes

HEADER_ROW = 4
CAP = 1e7
_GROUP_LABEL = dict(codes.ETHNIC_GROUPS)
#: ethnicity label -> its group's label
ETHNIC_GROUP_OF = {
    label: _GROUP_LABEL[codes._ETHNIC_GROUP_OF[code]] for code, label in codes.ETHNICITIES.items()
}


@dataclasses.dataclass
class Table:
    """One block of a sheet: rows by columns, the last row and column being totals."""

    book: str
    sheet: str
    name: tuple
    rows: list[str]
    cols: list[str]
    shown: dict[tuple[str, str], object]
    true: dict[tuple[str, str], float]


def _blocks(sheet, true_sheet, book: str, label_cols: int, first_value: int, people_col=None):
    header = [c.value for c in sheet[HEADER_ROW]]
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    trows = list(true_sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert len(rows) == len(trows), "the two exports must have the same layout"
    out: dict[tuple, Table] = {}
    cols = header[first_value:] if people_col is None else [None]
    for row, trow in zip(rows, trows, strict=True):
        if row[0] is None or len(row) <= first_value:
            continue
        name = tuple(row[:label_cols])
        if people_col is not None:
            if row[people_col] is None:
                continue
            name, category = (row[0], row[1]), "people"
            col = row[3]
            table = out.setdefault(name, Table(book, sheet.title, name, ["people"], [], {}, {}))
            table.cols.append(col)
            table.shown[(category, col)] = row[people_col]
            table.true[(category, col)] = trow[people_col]
            continue
        category = row[label_cols] if label_cols < first_value else "count"
        table = out.setdefault(name, Table(book, sheet.title, name, [], list(cols), {}, {}))
        table.rows.append(category)
        for j, col in enumerate(cols):
            table.shown[(category, col)] = row[first_value + j]
            table.true[(category, col)] = trow[first_value + j]
    return list(out.values())


def read_return(path: Path, truth: Path, book: str) -> list[Table]:
    """The people-count tables of one return (Reach, Outcomes, Data quality counts), each
    with its true values from the same return exported with threshold 1."""
    wb, tb = openpyxl.load_workbook(path), openpyxl.load_workbook(truth)
    tables = _blocks(wb["Reach"], tb["Reach"], book, 2, 3)
    tables += _blocks(wb["Outcomes"], tb["Outcomes"], book, 2, 4, people_col=4)
    tables += [
        t
        for t in _blocks(wb["Data quality"], tb["Data quality"], book, 2, 2)
        if t.name[0] != "Sessions" and not str(t.name[1]).endswith("complete")  # people
    ]
    return tables


class Attack:
    def __init__(self, threshold: int) -> None:
        self.t = threshold
        self.index: dict[tuple, int] = {}
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.mark: dict[int, str] = {}
        self.true: dict[int, float] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def term(self, cell: tuple, shown, true) -> tuple[int | None, float]:
        """(variable, constant) for a cell: a hidden cell is a variable."""
        if isinstance(shown, (int, float)):
            return None, float(shown)
        assert shown in (f"<{self.t}", "[c]"), f"unexpected {shown!r} at {cell}"
        if cell not in self.index:
            i = self.index[cell] = len(self.lo)
            small = shown.startswith("<")
            self.lo.append(1.0 if small else 0.0)
            self.hi.append(float(self.t - 1) if small else CAP)
            self.mark[i] = shown
            self.true[i] = float(true)
        return self.index[cell], 0.0

    def relate(self, total, parts, exact: bool) -> None:
        """total vs parts, each (variable, constant)."""

        def row(terms):
            coefs: dict[int, float] = {}
            const = 0.0
            for (v, c), sign in terms:
                if v is None:
                    const += sign * c
                else:
                    coefs[v] = coefs.get(v, 0.0) + sign
            return coefs, const

        coefs, const = row([(total, 1.0)] + [(p, -1.0) for p in parts])
        if exact:
            self._add(coefs, -const, -const)
            return
        self._add(coefs, -math.inf, -const)
        for p in parts:
            coefs, const = row([(total, 1.0), (p, -1.0)])
            self._add(coefs, -const, math.inf)

    def _add(self, coefs, lo, hi):
        if coefs:
            self.rows.append((coefs, lo, hi))
        else:
            assert lo - 1e-9 <= 0 <= hi + 1e-9, "the published figures contradict each other"

    def same(self, a, b) -> None:
        self.relate(a, [b], exact=True)

    def ranges(self) -> dict[int, tuple[float, float]]:
        n = len(self.lo)
        parent = list(range(n))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for coefs, _, _ in self.rows:
            vs = list(coefs)
            for v in vs[1:]:
                parent[find(v)] = find(vs[0])
        comps: dict[int, list[int]] = {}
        for i in range(n):
            comps.setdefault(find(i), []).append(i)
        by_var: dict[int, list[int]] = {}
        for r, (coefs, _, _) in enumerate(self.rows):
            for v in coefs:
                by_var.setdefault(v, []).append(r)
        out = {}
        for comp in comps.values():
            local = {v: k for k, v in enumerate(comp)}
            rs = sorted({r for v in comp for r in by_var.get(v, ())})
            a = np.zeros((len(rs), len(comp)))
            for k, r in enumerate(rs):
                for v, c in self.rows[r][0].items():
                    a[k, local[v]] = c
            lows, highs = [self.rows[r][1] for r in rs], [self.rows[r][2] for r in rs]
            cons = [LinearConstraint(a, lows, highs)]
            bounds = Bounds([self.lo[v] for v in comp], [self.hi[v] for v in comp])
            for v in comp:
                ends = []
                for sign in (1.0, -1.0):
                    c = np.zeros(len(comp))
                    c[local[v]] = sign
                    res = milp(
                        c,
                        constraints=cons if rs else [],
                        integrality=np.ones(len(comp)),
                        bounds=bounds,
                    )
                    assert res.status == 0, res.message
                    ends.append(sign * res.fun)
                out[v] = (round(ends[0], 6), round(ends[1], 6))
        return out

    def failures(self) -> list[tuple[tuple, str, tuple[float, float], float]]:
        """Hidden cells narrowed below the rule: a ``<t`` not free over 1..t-1, or any hidden
        cell whose range is narrower than that."""
        names = {i: cell for cell, i in self.index.items()}
        bad = []
        for v, (lo, hi) in self.ranges().items():
            assert lo - 1e-6 <= self.true[v] <= hi + 1e-6, "the attacker's model is wrong"
            if self.mark[v].startswith("<"):
                ok = lo <= 1 and hi >= self.t - 1
            else:
                ok = hi - lo >= self.t - 2
            if not ok:
                bad.append((names[v], self.mark[v], (lo, hi), self.true[v]))
        return bad


def _exact(table: Table, total: tuple, parts: Iterable[tuple]) -> bool:
    return table.true[total] == sum(table.true[p] for p in parts)


def attack(books: dict[str, list[Table]], threshold: int, links=()) -> Attack:
    """Every relation within each return, then ``links``: (table a, cell a, table b, cell b)
    pairs of cells in different returns that count the same people."""
    atk = Attack(threshold)

    def term(table: Table, cell: tuple[str, str]):
        return atk.term(
            (table.book, table.sheet, table.name, *cell), table.shown[cell], table.true[cell]
        )

    for tables in books.values():
        margins: dict[tuple, tuple[Table, str]] = {}
        for table in tables:
            *cats, last_row = table.rows
            if last_row != "Total":
                cats = table.rows  # one-row tables (outcomes, data quality): no total row
            *splits, total_col = table.cols
            for r in table.rows:
                parts = [(r, c) for c in splits]
                atk.relate(
                    term(table, (r, total_col)),
                    [term(table, p) for p in parts],
                    _exact(table, (r, total_col), parts),
                )
            if last_row == "Total":
                for c in table.cols:
                    parts = [(r, c) for r in cats]
                    atk.relate(
                        term(table, ("Total", c)),
                        [term(table, p) for p in parts],
                        _exact(table, ("Total", c), parts),
                    )
                # the same margin (people reached / referred by split) in every breakdown
                measure = table.name[0]
                if table.sheet == "Reach":
                    if measure in margins:
                        first = margins[measure][0]
                        for c in table.cols:
                            atk.same(term(first, ("Total", c)), term(table, ("Total", c)))
                    else:
                        margins[measure] = (table, "Total")
        by_name = {(t.sheet, t.name): t for t in tables}
        for table in tables:
            if table.sheet != "Reach" or table.name[1] != "Ethnic group":
                continue
            detail = by_name.get(("Reach", (table.name[0], "Ethnicity")))
            if detail is None:
                continue
            for group in table.rows[:-1]:
                members = [r for r in detail.rows[:-1] if ETHNIC_GROUP_OF.get(r) == group]
                if group == "Not recorded":
                    members = ["Not recorded"]
                if not members:
                    continue
                for c in table.cols:
                    truth = sum(detail.true[(m, c)] for m in members)
                    atk.relate(
                        term(table, (group, c)),
                        [term(detail, (m, c)) for m in members],
                        table.true[(group, c)] == truth,
                    )
        # counts that truly coincide: an informed attacker takes them as one
        people = [t for t in tables if t.sheet == "Outcomes"]
        for a in people:
            for b in people:
                if a.name[0] == b.name[0] and a.name < b.name:
                    for c in a.cols:
                        if c in b.cols and a.true[("people", c)] == b.true[("people", c)]:
                            atk.same(term(a, ("people", c)), term(b, ("people", c)))
        reach = by_name.get(("Reach", ("People reached", "Age band")))
        records = by_name.get(("Data quality", ("Participants", "Records in the quarter")))
        if reach and records:
            for c in records.cols:
                cell = (records.rows[0], c)
                if c in reach.cols and records.true[cell] == reach.true[("Total", c)]:
                    atk.same(term(records, cell), term(reach, ("Total", c)))
    for ta, ca, tb, cb in links:
        if ta.true[ca] == tb.true[cb]:
            atk.same(term(ta, ca), term(tb, cb))
    return atk
