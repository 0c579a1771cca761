"""Choosing complementary suppressions until no hidden count can be narrowed.

Primary suppression hides every count the rule calls small. Then, repeatedly: work out every
hidden cell's feasible range over the whole release (``intervals``, an integer program per cell
and direction); take the first cell whose range is narrower than the rule promises (a primary
cell must stay anywhere in 1..threshold-1; any hidden cell at least that wide); solve one small
integer program for the cheapest set of visible cells near it whose suppression admits two
whole tables, consistent with everything still shown, that put the cell at either end of its
range (the single-cell protection model of Fischetti and Salazar, ``complement``); hide them;
repeat until every range holds.
Cells an earlier release already published keep their state: a shown cell stays shown (it is
known), a hidden one stays hidden and is protected again against what this release adds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from vrp_desktop.disclosure.intervals import Range, holds, ranges
from vrp_desktop.disclosure.release import Key, Release, order
from vrp_desktop.disclosure.rule import Rule


@dataclasses.dataclass(frozen=True)
class Protection:
    """The outcome of ``protect``: which cells of the release are hidden, and why.

    ``release`` is the whole system checked (this release merged with the earlier ones);
    ``own`` the keys this release publishes; ``primary_everywhere``/``secondary_everywhere``
    the hidden cells of the whole system; ``unprotected`` hidden cells no allowed suppression
    could protect (only possible when an earlier release already published too much)."""

    release: Release
    rule: Rule
    own: frozenset[Key]
    primary: frozenset[Key]
    secondary: frozenset[Key]
    unprotected: frozenset[Key] = frozenset()
    primary_everywhere: frozenset[Key] = frozenset()
    secondary_everywhere: frozenset[Key] = frozenset()

    def ranges(self) -> dict[Key, Range]:
        """What an attacker can work out about each hidden cell (an integer program per cell
        and direction: slower than the check ``protect`` makes, so worked out on demand)."""
        t = self.rule.primary_range
        bounds = {k: (float(t[0]), float(t[1])) for k in self.primary_everywhere}
        bounds.update({k: (0.0, math.inf) for k in self.secondary_everywhere})
        return ranges(self.release, bounds)

    @property
    def hidden(self) -> frozenset[Key]:
        return self.primary | self.secondary

    def mark(self, key: Key) -> str | None:
        """``<5``, ``[c]`` or None (shown)."""
        if key in self.primary:
            return self.rule.primary_mark
        if key in self.secondary:
            return self.rule.secondary_mark
        return None

    def shown(self, key: Key) -> int | str:
        """What the cell shows: its mark, or its count (rounded when the rule rounds)."""
        return self.mark(key) or self.rule.shown(self.release.values[key])


def deficit(rule: Rule, primary: bool, span: Range) -> float:
    """How far ``span`` falls short of what the rule promises (0 = protected)."""
    lo, hi = span
    if primary:
        a, b = rule.primary_range
        return max(0.0, lo - a) + max(0.0, b - hi)
    return max(0.0, rule.protection_width - (hi - lo))


def protect(
    release: Release, rule: Rule, already_published: Iterable[Protection] = ()
) -> Protection:
    """Hide the small counts of ``release`` and enough others that no hidden count, here or in
    ``already_published``, can be narrowed below the rule's range."""
    earlier = list(already_published)
    system = release.merge(p.release for p in earlier)
    own = frozenset(release.values)
    # what earlier releases (and the releases they were checked with) showed, and hid
    known: set[Key] = set()
    for p in earlier:
        known |= p.release.values.keys() - p.primary_everywhere - p.secondary_everywhere
    fixed_primary = {k for p in earlier for k in p.primary_everywhere} - known
    fixed_secondary = {k for p in earlier for k in p.secondary_everywhere} - known - fixed_primary
    if not rule.active:
        return Protection(system, rule, own, frozenset(), frozenset())
    primary = {
        k for k in own if rule.is_small(release.values[k]) and k not in known
    } | fixed_primary
    secondary = set(fixed_secondary)
    free = {k for k in own if k not in known and k not in primary and k not in secondary}
    chooser = _Chooser(system, rule, primary, secondary, free)
    # Hiding more (or showing a <t as [c]) only ever widens a range, so a cell found
    # protected stays protected: each cell is checked when its turn comes, and rechecked only
    # if something was hidden since.
    ok: dict[Key, bool] = {}
    checked: dict[Key, int] = {}
    todo = set(primary) | set(secondary)
    stuck: set[Key] = set()
    version = 0
    while todo:
        cell = min(todo, key=order)
        if checked.get(cell) != version:
            ok[cell] = chooser.holds(cell)
            checked[cell] = version
        if ok[cell]:
            todo.discard(cell)
            continue
        extra = chooser.complement(cell)
        if not extra:
            # the rule's own bounds pin it (say a hidden total of 2 over two hidden 1s): show
            # the small counts of this release near it as [c] instead, which tells a reader
            # nothing about their size
            remark = {
                k
                for k in chooser.near(cell, 3)
                if k in primary and k in own and k not in known and k not in fixed_primary
            }
            if remark:
                primary -= remark
                secondary |= remark
                extra = sorted(remark, key=order)
            else:
                # last resort: hide every cell this release may still hide around it
                extra = sorted((k for k in chooser.near(cell, 2) if k in free), key=order)
            if not extra:
                stuck.add(cell)
                todo.discard(cell)
                continue
        secondary.update(extra)
        free.difference_update(extra)
        todo.update(extra)
        version += 1
    return Protection(
        system,
        rule,
        own,
        frozenset(primary & own),
        frozenset(secondary & own),
        frozenset(stuck),
        frozenset(primary),
        frozenset(secondary),
    )


#: branch-and-bound nodes one complement search may take (deterministic, unlike a time limit)
_NODES = 5000

#: what hiding a zero costs, against a count's own size
_ZERO_COST = 25.0


class _Chooser:
    def __init__(self, system: Release, rule: Rule, primary, secondary, free) -> None:
        self.system, self.rule = system, rule
        self.primary, self.secondary, self.free = primary, secondary, free
        self.related: dict[Key, list[int]] = {}
        self.as_total: dict[Key, int] = {}
        for n, rel in enumerate(system.relations):
            self.as_total[rel.total] = self.as_total.get(rel.total, 0) + 1
            for k in (rel.total, *rel.parts):
                self.related.setdefault(k, []).append(n)

    def bounds(self, extra: Key | None = None) -> dict[Key, Range]:
        t = self.rule.primary_range
        out: dict[Key, Range] = {k: (float(t[0]), float(t[1])) for k in self.primary}
        for k in self.secondary:
            out[k] = (0.0, math.inf)
        if extra is not None:
            out[extra] = (0.0, math.inf)
        return out

    def holds(self, cell: Key) -> bool:
        """Whether ``cell`` is as free as the rule promises (see ``intervals.holds``)."""
        primary = cell in self.primary
        return holds(
            self.system,
            self.bounds(),
            cell,
            span=self.rule.primary_range if primary else None,
            width=0 if primary else self.rule.protection_width,
        )

    def near(self, cell: Key, hops: int) -> set[Key]:
        """``cell`` and every cell within ``hops`` relations of it."""
        out = {cell}
        for _ in range(hops):
            out |= self._neighbours(out)
        return out

    def _neighbours(self, cells: set[Key]) -> set[Key]:
        out: set[Key] = set()
        for k in cells:
            for n in self.related.get(k, ()):
                rel = self.system.relations[n]
                out.update((rel.total, *rel.parts))
        return out

    def _cost(self, key: Key) -> tuple:
        value = self.system.values[key]
        # a total protects and costs most; a cell too small to absorb the hidden range less
        return (self.as_total.get(key, 0), value < self.rule.threshold - 1, value, order(key))

    def complement(self, cell: Key) -> list[Key] | None:
        """The cheapest visible cells whose suppression lets ``cell`` move across its whole
        promised range, or None when no choice can (see ``complements``)."""
        return complements(self, cell)


def complements(ch: _Chooser, cell: Key, hops: int = 2) -> list[Key] | None:
    """Single-cell protection as an integer program.

    Two copies ``up`` and ``down`` of the cells within ``hops`` relations of ``cell`` must each
    satisfy every relation touching them (cells further out held at their values), hidden cells
    within their rule bounds, visible cells at their values unless chosen (``z = 1``); ``cell``
    must reach the top of its promised range in ``up`` and the bottom in ``down``. Minimise the
    cost of the chosen cells: totals dearest, then larger counts."""
    from scipy import sparse  # the solver loads only when a release is protected
    from scipy.optimize import Bounds, LinearConstraint, milp

    rule, system = ch.rule, ch.system
    near = {cell}
    for _ in range(hops):
        near |= ch._neighbours(near)
    keys = sorted(near, key=order)
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    values = system.values
    hidden = ch.primary | ch.secondary
    choosable = [k for k in keys if k in ch.free]
    zi = {k: 2 * n + m for m, k in enumerate(choosable)}
    nv = 2 * n + len(choosable)
    big = float(sum(values[k] for k in keys) + rule.threshold + 1)
    lo, hi = np.zeros(nv), np.zeros(nv)
    for copy in (0, 1):
        for k, i in index.items():
            j = copy * n + i
            if k in ch.primary:
                lo[j], hi[j] = rule.primary_range
            elif k in hidden or k in zi:
                lo[j], hi[j] = 0, big
            else:
                lo[j] = hi[j] = values[k]
    lo[2 * n :], hi[2 * n :] = 0, 1
    # rows built as coordinates: a dense row per constraint cost more than the solve
    ri: list[int] = []
    ci: list[int] = []
    cv: list[float] = []
    rlo: list[float] = []
    rhi: list[float] = []

    def add(coefs: dict[int, float], a: float, b: float) -> None:
        r = len(rlo)
        for j, c in coefs.items():
            ri.append(r)
            ci.append(j)
            cv.append(c)
        rlo.append(a)
        rhi.append(b)

    touched = {n_ for k in keys for n_ in ch.related.get(k, ())}
    for copy in (0, 1):
        off = copy * n
        for n_ in sorted(touched):
            rel = system.relations[n_]

            def term(terms, off=off):
                coefs: dict[int, float] = {}
                const = 0.0
                for k, c in terms:
                    if k in index:
                        coefs[off + index[k]] = coefs.get(off + index[k], 0.0) + c
                    else:
                        const += c * values[k]
                return coefs, const

            coefs, const = term([(rel.total, 1.0)] + [(p, -1.0) for p in rel.parts])
            if rel.exact:
                add(coefs, -const, -const)
            else:
                add(coefs, -math.inf, -const)
                for p in rel.parts:
                    coefs, const = term([(rel.total, 1.0), (p, -1.0)])
                    add(coefs, -const, math.inf)
        for k, z in zi.items():  # y away from its value only when chosen
            j = off + index[k]
            add({j: 1.0, z: -big}, -math.inf, values[k])
            # a count cannot fall below 0, so its value is all it can lose: a tighter
            # relaxation than big, with the same integer solutions
            add({j: 1.0, z: float(values[k])}, values[k], math.inf)
    c_up, c_down = index[cell], n + index[cell]
    if cell in ch.primary:
        a, b = rule.primary_range
        lo[c_up], lo[c_down] = b, a
        hi[c_up], hi[c_down] = b, a
    else:
        add({c_up: 1.0, c_down: -1.0}, rule.protection_width, math.inf)
    cost = np.zeros(nv)
    for k, z in zi.items():
        # a hidden zero is dear (a reader loses a sure nothing), a total dearer still
        cost[z] = 1.0 + (values[k] or _ZERO_COST) + 1000.0 * ch.as_total.get(k, 0)
    res = milp(
        cost,
        constraints=[
            LinearConstraint(sparse.csr_array((cv, (ri, ci)), shape=(len(rlo), nv)), rlo, rhi)
        ],
        integrality=np.ones(nv),
        bounds=Bounds(lo, hi),
        # a node limit, not a time limit, bounds the search: the same figures then give the
        # same choice on a loaded machine too (the time limit is only a safety net)
        options={"node_limit": _NODES, "time_limit": 120},
    )
    if res.x is None:
        return None if hops >= 8 else complements(ch, cell, hops + 2)
    chosen = [k for k, z in zi.items() if res.x[z] > 0.5]
    return chosen or None
