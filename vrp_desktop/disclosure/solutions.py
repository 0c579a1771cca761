"""The release as one sparse linear system, and the whole-number solutions found of it.

``Matrix`` writes every relation of a release once, as rows of a sparse matrix over all its
keys; the problem of any group of hidden cells is a slice of it, with the visible cells moved
into the row bounds (numpy and scipy.sparse, not a Python loop per check). ``Pool`` keeps,
for each cell, the least and the most it has been in an integer solution found so far, so a
check that earlier solutions already answer costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from vrp_desktop.disclosure.release import Key, Relation, Release

Range = tuple[float, float]
#: stands for "no upper bound" inside the solver
CAP = 1e7


def relation_rows(rel: Relation, index: Mapping[Key, int], values: Mapping[Key, int]):
    """(coefficients {column: coef}, lower, upper) rows of one relation with the visible cells
    as constants; zero coefficients left out (a sparse row, built without a dense vector)."""

    def side(terms: list[tuple[Key, float]]) -> tuple[dict[int, float], float]:
        a: dict[int, float] = {}
        const = 0.0
        for key, coef in terms:
            if key in index:
                j = index[key]
                a[j] = a.get(j, 0.0) + coef
            else:
                const += coef * values[key]
        return {j: c for j, c in a.items() if c != 0.0}, const

    # total - sum(parts) == 0, or total - sum(parts) <= 0 and total - part >= 0 for each part
    a, c = side([(rel.total, 1.0)] + [(p, -1.0) for p in rel.parts])
    if rel.exact:
        yield a, -c, -c
        return
    yield a, -math.inf, -c
    for p in rel.parts:
        a, c = side([(rel.total, 1.0), (p, -1.0)])
        yield a, -c, math.inf


class Matrix:
    """The release's relations as one sparse matrix over every key, built once per release:
    a group's problem is then a slice of it, with its visible cells moved to the bounds."""

    def __init__(self, release: Release) -> None:
        keys = list(release.values)
        self.release = release
        self.index = {k: i for i, k in enumerate(keys)}
        self.values = np.array([release.values[k] for k in keys], dtype=float)
        self.relations = len(release.relations)
        self._built = None

    def _sparse(self):
        """(A by rows, A by columns, row lower, row upper), built at the first solve: most
        of the small releases a pack protects table by table never need one."""
        if self._built is None:
            from scipy import sparse  # the solver loads only when a release is protected

            # every key is in the index, so no cell is a constant and every bound is 0: the
            # rows of ``relation_rows`` written straight out (a coefficient met twice is added
            # up, and one that comes to 0 dropped, by ``sum_duplicates``/``eliminate_zeros``)
            index = self.index
            ri: list[int] = []
            ci: list[int] = []
            cv: list[float] = []
            lo: list[float] = []
            hi: list[float] = []
            for rel in self.release.relations:
                total = index[rel.total]
                parts = [index[p] for p in rel.parts]
                r = len(lo)
                ri += [r] * (len(parts) + 1)
                ci.append(total)
                ci += parts
                cv.append(1.0)
                cv += [-1.0] * len(parts)
                lo.append(0.0 if rel.exact else -math.inf)
                hi.append(0.0)
                if rel.exact:  # total - sum(parts) == 0
                    continue
                # total - sum(parts) <= 0 above; total - part >= 0 for each part here
                for k, part in enumerate(parts, start=r + 1):
                    ri += (k, k)
                    ci += (total, part)
                    cv += (1.0, -1.0)
                    lo.append(0.0)
                    hi.append(math.inf)
            shape = (len(lo), len(self.index))
            a = sparse.coo_array((cv, (ri, ci)), shape=shape).tocsr()
            a.sum_duplicates()
            a.eliminate_zeros()
            self._built = (a, a.tocsc(), np.array(lo, dtype=float), np.array(hi, dtype=float))
        return self._built

    def rows(self, keys: list[Key]):
        """(A, row lower, row upper) of every relation row touching ``keys``, over ``keys``'
        columns in their order: every other cell is held at its published value."""
        a, a_csc, lo, hi = self._sparse()
        cols = np.array([self.index[k] for k in keys], dtype=np.int64)
        # the rows with an entry in any of ``cols``, read off the column pointers (slicing
        # the matrix by columns to find them cost more than the rest of this together)
        starts, ends = a_csc.indptr[cols], a_csc.indptr[cols + 1]
        counts = ends - starts
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        rows = np.unique(a_csc.indices[at])
        full = a[rows]
        sub = full[:, cols]
        const = full @ self.values - sub @ self.values[cols]
        return sub, lo[rows] - const, hi[rows] - const

    def group(self, group: list[Key], bounds: Mapping[Key, Range]):
        """(index, A, row lower, row upper, lo, hi) of ``group``'s hidden cells, with their
        ``bounds`` (A None when no relation touches them)."""
        index = {k: i for i, k in enumerate(group)}
        lo = np.array([bounds[k][0] for k in group], dtype=float)
        hi = np.array([bounds[k][1] for k in group], dtype=float)
        hi = np.where(np.isinf(hi), CAP, hi)
        a, rlo, rhi = self.rows(group)
        if a.shape[0] == 0:
            return index, None, [], [], lo, hi
        return index, a, rlo, rhi, lo, hi


def matrix(release: Release) -> Matrix:
    """The release's ``Matrix``, kept with it until it gains relations or cells."""
    cached = getattr(release, "_matrix", None)
    if (
        cached is not None
        and cached.relations == len(release.relations)
        and len(cached.index) == len(release.values)
    ):
        return cached
    built = Matrix(release)
    release._matrix = built  # type: ignore[attr-defined]
    return built


#: rounds of pushes over the cells still unproven, and how much each must shrink them to go on
_PUSHES = 6
_PUSH_GAIN = 0.8


class Pool:
    """The least and the most each cell has been in an integer solution found so far.

    The published figures are one solution, and every solve of a check finds two more. Hiding
    a cell, or showing a ``<t`` as ``[c]``, only ever widens the bounds, so a solution found
    once stays a solution while a release is protected: a cell whose least and most already
    reach what the rule promises holds, with no solve. (Only the extremes are kept: a check
    asks for two solutions apart, each on its own.)"""

    def __init__(self, release: Release, width: float) -> None:
        m = matrix(release)
        self.release = release
        #: how wide a complementary cell's range must be (the rule's protection width)
        self.width = width
        self.index = m.index
        self.least = m.values.copy()
        self.most = m.values.copy()
        #: bumped by whoever widens a bound; a group is pushed (``push``) once per version
        self.version = 0
        self._pushed: dict[Key, int] = {}

    def push(self, group: list[Key], bounds: Mapping[Key, Range]) -> None:
        """Linear programs over ``group`` that push every cell not yet proven to its top, then
        to its bottom, all at once, for a few rounds while they keep proving cells: a pair of
        solutions proves most cells of a large group, so only the rest need a check of their
        own. The relations are sums, so the vertices are mostly whole numbers, and ``add``
        keeps only those that are."""
        if self._pushed.get(group[0]) == self.version:
            return
        width = self.width
        self._pushed[group[0]] = self.version
        from scipy.optimize import linprog

        system = matrix(self.release).group(group, bounds)
        _index, a, rlo, rhi, lo, hi = system
        if a is None:
            return
        cols = np.array([self.index[k] for k in group], dtype=np.int64)
        value = matrix(self.release).values[cols]
        # an unbounded cell is pushed only as far as the rule asks (a restriction, so what
        # is found still solves the whole)
        top = np.minimum(hi, np.maximum(value, lo) + width + 1)
        bottom = np.maximum(lo, np.minimum(value, top) - width - 1)
        a_ub, b_ub = one_sided(a, rlo, rhi)
        bounded = np.isfinite(np.array([bounds[k][1] for k in group], dtype=float))
        for _round in range(_PUSHES):
            least, most = self.least[cols], self.most[cols]
            narrow = ~bounded & (most - least < width)
            wants_top = (bounded & (most < hi)) | narrow
            wants_bottom = (bounded & (least > lo)) | narrow
            if not wants_top.any() and not wants_bottom.any():
                return
            before = int(wants_top.sum() + wants_bottom.sum())
            for want, sign in ((wants_top, -1.0), (wants_bottom, 1.0)):
                if not want.any():
                    continue
                res = linprog(
                    sign * want.astype(float),
                    A_ub=a_ub,
                    b_ub=b_ub,
                    bounds=np.column_stack([bottom, top]),
                    method="highs",
                )
                if res.status == 0:
                    self.add(group, res.x, system)
            least, most = self.least[cols], self.most[cols]
            narrow = ~bounded & (most - least < width)
            after = int((bounded & (most < hi)).sum() + (bounded & (least > lo)).sum())
            after += 2 * int(narrow.sum())
            if after > before * _PUSH_GAIN:
                return  # the pushes stopped paying: the rest are checked one by one

    def proves(self, cell: Key, span: Range | None, width: float) -> bool:
        i = self.index[cell]
        low, high = self.least[i], self.most[i]
        if span is not None and (low > span[0] or high < span[1]):
            return False
        return not (width > 0 and high - low < width)

    def add(self, group: list[Key], x: np.ndarray, system) -> bool:
        """Keep ``x`` (values of ``group``'s cells) if it is an integer solution of
        ``system`` (``Matrix.group``'s answer), and say whether it was: the solver's
        tolerance never enters the pool."""
        whole = solution(x, system)
        if whole is None:
            return False
        cols = np.array([self.index[k] for k in group], dtype=np.int64)
        self.least[cols] = np.minimum(self.least[cols], whole)
        self.most[cols] = np.maximum(self.most[cols], whole)
        return True


def solution(x: np.ndarray, system) -> np.ndarray | None:
    """``x`` rounded, if it is a whole-number solution of ``system`` (within the solver's
    tolerance before rounding, and exactly after); else None."""
    _index, a, rlo, rhi, lo, hi = system
    whole = np.round(x)
    if np.any(np.abs(x - whole) > 1e-6) or np.any(whole < lo) or np.any(whole > hi):
        return None
    if a is not None:
        got = a @ whole
        if np.any(got < np.asarray(rlo) - 1e-9) or np.any(got > np.asarray(rhi) + 1e-9):
            return None
    return whole


def one_sided(a, rlo, rhi):
    """(A_ub, b_ub): rows ``rlo <= A x <= rhi`` as ``A_ub x <= b_ub`` (what ``linprog``
    takes), the unbounded sides left out."""
    from scipy import sparse

    a_ub = sparse.vstack([a, -a], format="csr")
    b_ub = np.concatenate([np.asarray(rhi), -np.asarray(rlo)])
    finite = np.isfinite(b_ub)
    return a_ub[finite], b_ub[finite]
