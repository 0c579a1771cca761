"""The check behind every suppression: can a hidden count still reach what the rule promises?

``intervals.holds`` answers it with shortcuts (solutions found before, bound propagation, the
linear relaxation, integer programs per end). Each shortcut must give the exact answer, so
here it is compared with brute force: every whole-number filling of the hidden cells tried
against the release's relations, on seeded random releases of the shapes the returns and the
evaluation publish (tables with margins, and unions whose total lies between the largest
part and the sum, which make the relaxation's optimum fractional).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from vrp_desktop.disclosure import Release, Rule
from vrp_desktop.disclosure.intervals import holds
from vrp_desktop.disclosure.solutions import Pool, matrix

RULE = Rule()
T_LO, T_HI = RULE.primary_range
WIDTH = RULE.protection_width
#: never a [c]: shown (or a <5), it bounds every count, which keeps brute force finite
GRAND = ("t", "T", "T")


def _release(rng: random.Random) -> Release:
    """A table (rows x columns, with margins) and a union over its first column's cells."""
    rows, cols = rng.randint(2, 3), rng.randint(2, 3)
    cells = [[rng.choice([0, 1, 2, 3, 4, 5, 6]) for _ in range(cols)] for _ in range(rows)]
    r = Release()
    grid = [[(("t", i, j), v) for j, v in enumerate(row)] for i, row in enumerate(cells)]
    r.grid(
        grid,
        [(("t", i, "T"), sum(row)) for i, row in enumerate(cells)],
        [(("t", "T", j), sum(col)) for j, col in enumerate(zip(*cells, strict=True))],
        (("t", "T", "T"), sum(map(sum, cells))),
    )
    # people counted once across two parts: between the larger part and their sum
    parts = [("t", 0, 0), ("t", 1, 0)]
    low, high = max(cells[0][0], cells[1][0]), cells[0][0] + cells[1][0]
    r.cell(("u",), rng.randint(low, high))
    r.relate(("u",), parts, exact=False)
    return r


def _hidden(rng: random.Random, release: Release) -> dict:
    """Bounds of the hidden cells: the small counts as ``<5`` and a few others as ``[c]``."""
    bounds = {}
    for key, value in release.values.items():
        if 0 < value < RULE.threshold:
            bounds[key] = (float(T_LO), float(T_HI))
        elif key != GRAND and rng.random() < 0.6:
            bounds[key] = (0.0, float("inf"))
    return bounds


def _enumerate(release: Release, bounds: dict) -> dict:
    """Every value each hidden cell takes over all whole-number fillings (brute force, as
    arrays: one row per filling). No count exceeds the grand total (every count is a part of
    it, or at most a sum of its parts), so its value, or its <5 bound, caps the search."""
    hidden = sorted(bounds, key=repr)
    cap = _cap(release, bounds)
    axes = [np.arange(int(bounds[k][0]), int(min(bounds[k][1], cap)) + 1) for k in hidden]
    grids = np.meshgrid(*axes, indexing="ij")
    fillings = {k: g.ravel() for k, g in zip(hidden, grids, strict=True)}
    size = grids[0].size

    def value(key):
        return fillings[key] if key in fillings else np.full(size, release.values[key])

    ok = np.ones(size, dtype=bool)
    for rel in release.relations:
        parts = np.stack([value(p) for p in rel.parts])
        total = value(rel.total)
        if rel.exact:
            ok &= total == parts.sum(axis=0)
        else:
            ok &= (parts.max(axis=0) <= total) & (total <= parts.sum(axis=0))
    return {k: set(fillings[k][ok].tolist()) for k in hidden}


def _cap(release: Release, bounds: dict) -> int:
    return int(bounds[GRAND][1]) if GRAND in bounds else release.values[GRAND]


def _fillings(release: Release, bounds: dict) -> int:
    """How many fillings brute force tries."""
    cap = _cap(release, bounds)
    return int(np.prod([min(hi, cap) - lo + 1 for lo, hi in bounds.values()]))


def _cases(count: int):
    rng = random.Random(20261129)
    out = []
    while len(out) < count:
        release = _release(rng)
        bounds = _hidden(rng, release)
        if 1 <= len(bounds) <= 6 and _fillings(release, bounds) <= 100_000:
            out.append((release, bounds))
    return out


@pytest.mark.parametrize("with_pool", [False, True], ids=["one by one", "with a pool"])
def test_every_check_equals_brute_force(with_pool):
    answered = {True: 0, False: 0}
    for release, bounds in _cases(200):
        seen = _enumerate(release, bounds)
        pool = Pool(release, WIDTH) if with_pool else None
        for cell in sorted(bounds, key=repr):
            primary = bounds[cell][1] != float("inf")
            values = seen[cell]
            if primary:
                truth = T_LO in values and T_HI in values
            else:
                truth = max(values) - min(values) >= WIDTH
            got = holds(
                release,
                bounds,
                cell,
                span=RULE.primary_range if primary else None,
                width=0 if primary else WIDTH,
                pool=pool,
            )
            assert got == truth, (cell, sorted(values), release.values, bounds)
            answered[got] += 1
    # the cases exercise both answers, many times
    assert answered[True] > 30 and answered[False] > 30, answered


def test_the_pool_keeps_only_whole_solutions_of_the_release():
    r = Release()
    r.grid(
        [[(("t", 0, 0), 2), (("t", 0, 1), 3)], [(("t", 1, 0), 6), (("t", 1, 1), 9)]],
        [(("t", 0, "T"), 5), (("t", 1, "T"), 15)],
        [(("t", "T", 0), 8), (("t", "T", 1), 12)],
        (("t", "T", "T"), 20),
    )
    bounds = {("t", 0, 0): (1.0, 4.0), ("t", 0, 1): (0.0, float("inf"))}
    bounds |= {("t", 1, 0): (0.0, float("inf")), ("t", 1, 1): (0.0, float("inf"))}
    group = sorted(bounds, key=repr)
    system = matrix(r).group(group, bounds)
    pool = Pool(r, WIDTH)
    at = {k: i for i, k in enumerate(group)}

    def filling(**v):
        x = np.zeros(len(group))
        for name, value in v.items():
            x[at[("t", int(name[1]), int(name[2]))]] = value
        return x

    # the published figures are where the pool starts
    assert pool.least[pool.index[("t", 0, 0)]] == 2 == pool.most[pool.index[("t", 0, 0)]]
    # moving 2 people round the four cells keeps every margin: a solution
    assert pool.add(group, filling(c00=4, c01=1, c10=4, c11=11), system)
    assert pool.most[pool.index[("t", 0, 0)]] == 4
    # half a person, a row that no longer adds up, and a <5 of 0 are refused
    assert not pool.add(group, filling(c00=2.5, c01=2.5, c10=5.5, c11=9.5), system)
    assert not pool.add(group, filling(c00=3, c01=3, c10=5, c11=9), system)
    assert not pool.add(group, filling(c00=0, c01=5, c10=8, c11=7), system)
    assert pool.least[pool.index[("t", 0, 0)]] == 2


def test_a_fractional_relaxation_is_not_taken_for_a_yes():
    """x + y = 3 and y + z = 3 are shown; w = x + z is a <5 (truly 2), x, y, z are [c].
    Then w = 2x: the relaxation reaches w = 1 at x = 0.5, but whole people give only w = 2
    or 4, so a reader learns that w is even: the <5 is not as wide as the rule promises."""
    r = Release()
    for key, value in {"x": 1, "y": 2, "z": 1, "x+y": 3, "y+z": 3, "w": 2}.items():
        r.cell(key, value)
    r.relate("x+y", ["x", "y"], exact=True)
    r.relate("y+z", ["y", "z"], exact=True)
    r.relate("w", ["x", "z"], exact=True)
    bounds = {"w": (float(T_LO), float(T_HI))} | {k: (0.0, float("inf")) for k in "xyz"}
    for pool in (None, Pool(r, WIDTH)):
        assert not holds(r, bounds, "w", span=RULE.primary_range, width=0, pool=pool)
    # and x, a [c], can only be 1 or 2 (0 makes w = 0, 3 makes it 6): not 3 values wide
    assert not holds(r, bounds, "x", span=None, width=WIDTH, pool=Pool(r, WIDTH))
