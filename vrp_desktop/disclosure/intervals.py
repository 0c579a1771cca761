"""What an attacker can work out: the feasible range of each hidden count.

Given the published values and the hidden cells' bounds (a primary-suppressed count is 1 to
threshold - 1, a complementary one any count >= 0), each hidden cell's smallest and largest
value over every integer solution of the release's relations. Solved with HiGHS through
``scipy.optimize.milp`` (one minimise and one maximise per cell), over each connected group of
hidden cells separately: the groups are small even when the release is large.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from vrp_desktop.disclosure.release import Key, Relation, Release

Range = tuple[float, float]
#: stands for "no upper bound" inside the solver
_CAP = 1e7


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
    """(coefficients, lower, upper) rows of one relation with the visible cells as constants."""
    n = len(index)

    def side(terms: list[tuple[Key, float]]) -> tuple[np.ndarray, float]:
        a, const = np.zeros(n), 0.0
        for key, coef in terms:
            if key in index:
                a[index[key]] += coef
            else:
                const += coef * values[key]
        return a, const

    # total - sum(parts) == 0, or total - sum(parts) <= 0 and total - part >= 0 for each part
    a, c = side([(rel.total, 1.0)] + [(p, -1.0) for p in rel.parts])
    if rel.exact:
        yield a, -c, -c
        return
    yield a, -math.inf, -c
    for p in rel.parts:
        a, c = side([(rel.total, 1.0), (p, -1.0)])
        yield a, -c, math.inf


def ranges(
    release: Release,
    bounds: Mapping[Key, Range],
    cells: Iterable[Key] | None = None,
    *,
    integer: bool = True,
) -> dict[Key, Range]:
    """The feasible range of each of ``cells`` (default: every hidden cell), given each hidden
    cell's ``bounds``; every key not in ``bounds`` is visible with its value."""
    wanted = set(bounds if cells is None else cells)
    out: dict[Key, Range] = {}
    by_key: dict[Key, list[Relation]] = {}
    for rel in release.relations:
        for k in (rel.total, *rel.parts):
            if k in bounds:
                by_key.setdefault(k, []).append(rel)
    for group in groups(release, bounds):
        if not wanted.intersection(group):
            continue
        index = {k: i for i, k in enumerate(group)}
        seen: set[int] = set()
        rows = []
        for k in group:
            for rel in by_key.get(k, ()):
                if id(rel) not in seen:
                    seen.add(id(rel))
                    rows.extend(_rows(rel, index, release.values))
        lo = np.array([bounds[k][0] for k in group], dtype=float)
        hi = np.array([bounds[k][1] for k in group], dtype=float)
        for k in group:
            if k in wanted:
                out[k] = _extremes(index[k], len(group), rows, lo, hi, integer)
    return out


def _extremes(i: int, n: int, rows, lo, hi, integer: bool) -> Range:
    # an unbounded count gets a finite cap far above any real count, so that HiGHS never
    # has to report "unbounded" (which a MILP may word as infeasible-or-unbounded)
    cap = np.where(np.isinf(hi), _CAP, hi)
    found = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[i] = sign
        if integer:
            constraints = (
                [
                    LinearConstraint(
                        np.array([r[0] for r in rows]), [r[1] for r in rows], [r[2] for r in rows]
                    )
                ]
                if rows
                else []
            )
            res = milp(c, constraints=constraints, integrality=np.ones(n), bounds=Bounds(lo, cap))
        else:
            res = _lp(c, rows, lo, cap)
        if res.status != 0:
            raise ValueError(f"the published figures admit no solution ({res.message})")
        value = float(sign * res.fun)
        found.append(math.inf if value >= _CAP - 0.5 else round(value, 6))
    return (found[0], found[1])


def _lp(c, rows, lo, hi):
    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for a, low, u in rows:
        if low == u:
            a_eq.append(a)
            b_eq.append(u)
            continue
        if u < math.inf:
            a_ub.append(a)
            b_ub.append(u)
        if low > -math.inf:
            a_ub.append(-a)
            b_ub.append(-low)
    return linprog(
        c,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=b_eq or None,
        bounds=list(zip(lo, hi, strict=True)),
        method="highs",
    )
