"""What an attacker can work out: the feasible range of each hidden count.

Given the published values and the hidden cells' bounds (a primary-suppressed count is 1 to
threshold - 1, a complementary one any count >= 0), each hidden cell's smallest and largest
value over every integer solution of the release's relations. Solved with HiGHS through
``scipy.optimize.milp`` (one minimise and one maximise per cell), over each connected group of
hidden cells separately: the groups are small even when the release is large.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

from vrp_desktop.disclosure.release import Key, Relation, Release, order

Range = tuple[float, float]
#: stands for "no upper bound" inside the solver
_CAP = 1e7
#: groups up to this many hidden cells are solved whole at once
_SMALL = 12


def groups(release: Release, hidden: Iterable[Key]) -> list[list[Key]]:
    """Hidden cells joined by a relation that holds two of them (union-find)."""
    hidden = set(hidden)
    parent: dict[Key, Key] = {k: k for k in hidden}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for rel in release.relations:
        members = [k for k in (rel.total, *rel.parts) if k in hidden]
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a != b:
                parent[a] = b
    out: dict[Key, list[Key]] = {}
    for k in hidden:
        out.setdefault(find(k), []).append(k)
    return sorted(out.values(), key=len)


def _rows(rel: Relation, index: Mapping[Key, int], values: Mapping[Key, int]):
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


def _index(release: Release, bounds: Mapping[Key, Range]) -> dict[Key, list[Relation]]:
    """The relations each cell is in (kept with the release until it gains relations)."""
    cached = getattr(release, "_by_key", None)
    if cached is not None and cached[0] == len(release.relations):
        return cached[1]
    by_key: dict[Key, list[Relation]] = {}
    for rel in release.relations:
        for k in (rel.total, *rel.parts):
            by_key.setdefault(k, []).append(rel)
    release._by_key = (len(release.relations), by_key)  # type: ignore[attr-defined]
    return by_key


def _group_of(
    cell: Key, by_key: Mapping[Key, list[Relation]], bounds, hops: int | None = None
) -> list[Key]:
    """The hidden cells joined to ``cell`` through relations (within ``hops`` of it)."""
    seen, layer = {cell}, [cell]
    while layer and (hops is None or hops > 0):
        hops = None if hops is None else hops - 1
        nxt = []
        for k in layer:
            for rel in by_key.get(k, ()):
                for other in (rel.total, *rel.parts):
                    if other in bounds and other not in seen:
                        seen.add(other)
                        nxt.append(other)
        layer = nxt
    return sorted(seen, key=order)


def _system(release: Release, bounds, group: list[Key], by_key):
    """(index, A as a sparse matrix, row lower, row upper, lo, hi, rows) of one group; ``rows``
    are the sparse rows A is made of (for ``_propagate``)."""
    from scipy import sparse  # the solver loads only when a release is protected

    index, rows = _group_rows(release, group, by_key)
    a = None
    if rows:
        ri = [r for r, row in enumerate(rows) for _ in row[0]]
        ci = [j for row in rows for j in row[0]]
        cv = [c for row in rows for c in row[0].values()]
        a = sparse.csr_array((cv, (ri, ci)), shape=(len(rows), len(group)))
    lo = np.array([bounds[k][0] for k in group], dtype=float)
    hi = np.array([bounds[k][1] for k in group], dtype=float)
    return (
        index,
        a,
        [r[1] for r in rows],
        [r[2] for r in rows],
        lo,
        np.where(np.isinf(hi), _CAP, hi),
    )


def _group_rows(release: Release, group: list[Key], by_key):
    index = {k: i for i, k in enumerate(group)}
    seen: set[int] = set()
    rows = []
    for k in group:
        for rel in by_key.get(k, ()):
            if id(rel) not in seen:
                seen.add(id(rel))
                rows.extend(_rows(rel, index, release.values))
    return index, rows


#: rounds of bound propagation before the solver is asked
_ROUNDS = 12


def _propagate(rows, lo: list[float], hi: list[float]) -> bool:
    """Narrow ``lo``/``hi`` (in place) to bounds every integer solution of ``rows`` keeps,
    by interval propagation: each row bounds each of its cells by what the others can add
    up to. An outer bound of the feasible set, never tighter than the truth, so when it
    already rules a value out the solver would too. False when no solution exists."""
    eps = 1e-9
    inf = math.inf
    for _ in range(_ROUNDS):
        changed = False
        for coefs, r_lo, r_hi in rows:
            # the least and most each term can be; sums of the finite ones, counts of the rest
            mins = {j: c * (lo[j] if c > 0 else hi[j]) for j, c in coefs.items()}
            maxs = {j: c * (hi[j] if c > 0 else lo[j]) for j, c in coefs.items()}
            low_sum = sum(v for v in mins.values() if v != -inf)
            low_inf = sum(1 for v in mins.values() if v == -inf)
            high_sum = sum(v for v in maxs.values() if v != inf)
            high_inf = sum(1 for v in maxs.values() if v == inf)
            for j, c in coefs.items():
                mn, mx = mins[j], maxs[j]
                rest_min = -inf if low_inf - (mn == -inf) else low_sum - (0.0 if mn == -inf else mn)
                rest_max = inf if high_inf - (mx == inf) else high_sum - (0.0 if mx == inf else mx)
                # c * x within [r_lo - rest_max, r_hi - rest_min]
                low, high = r_lo - rest_max, r_hi - rest_min
                if c < 0:
                    low, high = high, low
                if math.isfinite(low) and (new := math.ceil(low / c - eps)) > lo[j]:
                    lo[j], changed = float(new), True
                if math.isfinite(high) and (new := math.floor(high / c + eps)) < hi[j]:
                    hi[j], changed = float(new), True
                if lo[j] > hi[j]:
                    return False
        if not changed:
            return True
    return True


def _surely_fails(release, bounds, cell, by_key, span, width) -> bool:
    """A check without the solver: True when bound propagation over the relations ``cell``
    is in (the others left out: a relaxation, so still an outer bound) shows it cannot reach
    both ends of ``span`` or values ``width`` apart; then the solver would say no too."""
    rels = by_key.get(cell, ())
    local = sorted({k for rel in rels for k in (rel.total, *rel.parts) if k in bounds}, key=order)
    index = {k: i for i, k in enumerate(local)}
    rows = [row for rel in rels for row in _rows(rel, index, release.values)]
    lo = [float(bounds[k][0]) for k in local]
    hi = [float(bounds[k][1]) for k in local]
    if not _propagate(rows, lo, hi):
        return True
    i = index[cell]
    if span is not None and (lo[i] > span[0] or hi[i] < span[1]):
        return True
    return width > 0 and hi[i] - lo[i] < width


def holds(
    release: Release, bounds: Mapping[Key, Range], cell: Key, *, span: Range | None, width: float
) -> bool:
    """Whether ``cell`` can take both ends of ``span`` (when given) and values ``width`` apart,
    in two integer solutions found together: one feasibility problem, not two optimisations."""
    by_key = _index(release, bounds)
    group = _group_of(cell, by_key, bounds)
    if len(group) > _SMALL:
        # first with the hidden cells far away held at their values: a solution then is a
        # solution of the whole (so "holds" is sure); only a "no" needs the whole group
        near = _group_of(cell, by_key, bounds, hops=2)
        if len(near) < len(group) and _holds(release, bounds, cell, near, by_key, span, width):
            return True
    return _holds(release, bounds, cell, group, by_key, span, width)


#: answers of ``_holds`` by the whole content of their problem (see ``_problem_key``): the
#: second stage of a return, and a partnership return checked with the providers' cores, ask
#: again about groups of hidden cells that nothing new touches
_ANSWERS: dict[tuple, bool] = {}
_MAX_ANSWERS = 20_000


def _problem_key(release: Release, bounds, cell, group, by_key, span, width) -> tuple:
    """Everything the answer depends on: the group's cells and bounds, and every relation
    touching them with the values of its cells (so equal keys mean equal problems)."""
    rels: dict[int, Relation] = {}
    for k in group:
        for rel in by_key.get(k, ()):
            rels.setdefault(id(rel), rel)
    values = release.values
    relation_part = frozenset(
        (
            rel.total,
            values.get(rel.total),
            rel.exact,
            frozenset((p, values.get(p), n) for p, n in Counter(rel.parts).items()),
        )
        for rel in rels.values()
    )
    return (
        cell,
        span,
        width,
        frozenset((k, bounds[k]) for k in group),
        relation_part,
    )


def _holds(release, bounds, cell, group, by_key, span, width) -> bool:
    key = _problem_key(release, bounds, cell, group, by_key, span, width)
    known = _ANSWERS.get(key)
    if known is None:
        known = not _surely_fails(release, bounds, cell, by_key, span, width)
        known = known and _solve_holds(release, bounds, cell, group, by_key, span, width)
        if len(_ANSWERS) >= _MAX_ANSWERS:
            _ANSWERS.clear()
        _ANSWERS[key] = known
    return known


def _solve_holds(release, bounds, cell, group, by_key, span, width) -> bool:
    from scipy import sparse  # the solver loads only when a release is protected
    from scipy.optimize import Bounds, LinearConstraint, milp

    index, a, rlo, rhi, lo, hi = _system(release, bounds, group, by_key)
    n, i = len(group), index[cell]
    lo2, hi2 = np.concatenate([lo, lo]), np.concatenate([hi, hi])
    blocks = []
    if a is not None:
        blocks.append(
            LinearConstraint(sparse.block_diag([a, a], format="csr"), rlo + rlo, rhi + rhi)
        )
    if span is not None:
        lo2[i] = hi2[i] = span[0]
        lo2[n + i] = hi2[n + i] = span[1]
    if width > 0:
        row = np.zeros(2 * n)
        row[n + i], row[i] = 1.0, -1.0
        blocks.append(LinearConstraint(row.reshape(1, -1), width, np.inf))
    if np.any(lo2 > hi2):
        return False
    res = milp(
        np.zeros(2 * n), constraints=blocks, integrality=np.ones(2 * n), bounds=Bounds(lo2, hi2)
    )
    return res.status == 0


def ranges(
    release: Release,
    bounds: Mapping[Key, Range],
    cells: Iterable[Key] | None = None,
) -> dict[Key, Range]:
    """The feasible range of each of ``cells`` (default: every hidden cell), given each hidden
    cell's ``bounds``; every key not in ``bounds`` is visible with its value."""
    wanted = set(bounds if cells is None else cells)
    out: dict[Key, Range] = {}
    by_key = _index(release, bounds)
    for cell in sorted(wanted, key=order):
        if cell in out:
            continue
        group = _group_of(cell, by_key, bounds)
        index, a, rlo, rhi, lo, hi = _system(release, bounds, group, by_key)
        for k in group:
            if k in wanted:
                out[k] = _extremes(index[k], len(group), (a, rlo, rhi), lo, hi)
    return out


def _extremes(i: int, n: int, system, lo, hi) -> Range:
    from scipy.optimize import Bounds, LinearConstraint, milp

    a, rlo, rhi = system
    found = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[i] = sign
        constraints = [LinearConstraint(a, rlo, rhi)] if a is not None else []
        res = milp(c, constraints=constraints, integrality=np.ones(n), bounds=Bounds(lo, hi))
        if res.status != 0:
            raise ValueError(f"the published figures admit no solution ({res.message})")
        value = float(sign * res.fun)
        # an unbounded count has a cap far above any real count inside the solver
        found.append(math.inf if value >= _CAP - 0.5 else round(value, 6))
    return (found[0], found[1])
