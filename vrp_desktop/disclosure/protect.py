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
import heapq
import itertools
import math
from collections.abc import Iterable, Mapping

import numpy as np

from vrp_desktop.disclosure.intervals import Pool, Range, holds, matrix, ranges
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
    release: Release,
    rule: Rule,
    already_published: Iterable[Protection] = (),
    *,
    hidden_from_start: Iterable[Key] = (),
    quick_repair: bool = False,
    dear: Mapping[Key, float] | None = None,
) -> Protection:
    """Hide the small counts of ``release`` and enough others that no hidden count, here or in
    ``already_published``, can be narrowed below the rule's range.

    ``hidden_from_start``: cells of this release hidden before any check (shown as ``[c]``),
    say what protecting each part of a large release alone chose; only what the parts do not
    cover together is then chosen over the whole, where the models are large.
    ``quick_repair``: for a large release whose parts were protected first, choose the
    complements of all but small models by a rounded linear program, and first let a chosen
    cell move only as far as the rule's threshold (see ``complements``): a few more cells
    hidden, for minutes saved.
    ``dear``: headline counts a reader needs most, each with how many times dearer it is to
    hide than another count of its size and place (100 say): hidden only where nothing cheaper
    will do."""
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
    start = {k for k in hidden_from_start if k in own and k not in known}
    primary -= start
    secondary = set(fixed_secondary) | start
    free = {k for k in own if k not in known and k not in primary and k not in secondary}
    chooser = _Chooser(system, rule, primary, secondary, free)
    if quick_repair:
        chooser.exact_up_to, chooser.capped = _QUICK_EXACT_UP_TO, True
    chooser.dear = dict(dear or {})
    # Hiding more (or showing a <t as [c]) only ever widens a range, so a cell found
    # protected stays protected: each cell is checked when its turn comes, and rechecked only
    # if something was hidden since.
    ok: dict[Key, bool] = {}
    checked: dict[Key, int] = {}
    todo = set(primary) | set(secondary)
    tie = itertools.count()  # keys of one order (never met) would otherwise be compared
    queue = [(order(k), next(tie), k) for k in todo]  # first: min(todo, key=order)
    heapq.heapify(queue)
    stuck: set[Key] = set()
    version = 0
    while todo:
        while queue[0][2] not in todo:  # already settled
            heapq.heappop(queue)
        cell = queue[0][2]
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
        for k in extra:
            if k not in todo:
                todo.add(k)
                heapq.heappush(queue, (order(k), next(tie), k))
        version += 1
        chooser.pool.version = version
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

#: variables of a model still solved as an integer program first: below this it takes
#: milliseconds, and the choice is the cheapest one
_EXACT_UP_TO = 4000

#: the same for ``quick_repair``. On the whole evaluation pack (integer programs up to 4000
#: variables as before: 300 people at three providers about 150 s; 10,000 at four, 12 s),
#: 100 took them to about 50 s and 1.2 s, hiding 3-13% more cells
_QUICK_EXACT_UP_TO = 100

#: what hiding a zero costs, against a count's own size
_ZERO_COST = 25.0


class _Chooser:
    def __init__(self, system: Release, rule: Rule, primary, secondary, free) -> None:
        self.system, self.rule = system, rule
        self.primary, self.secondary, self.free = primary, secondary, free
        self.pool = Pool(system, rule.protection_width)
        self.exact_up_to = _EXACT_UP_TO
        self.capped = False
        self.dear: dict[Key, float] = {}
        self._bounds: dict[Key, Range] = {}
        self._bounds_at: int | None = None
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
        if self._bounds_at != self.pool.version:  # ``protect`` bumps it with every change
            self._bounds, self._bounds_at = self.bounds(), self.pool.version
        return holds(
            self.system,
            self._bounds,
            cell,
            span=self.rule.primary_range if primary else None,
            width=0 if primary else self.rule.protection_width,
            pool=self.pool,
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
    cost of the chosen cells: totals dearest, then larger counts.

    On a large model (a small release's whole neighbourhood in a big one), first as a linear
    program with each chosen cell moving at most ``threshold`` (a narrower
    model, so what it finds is a choice of the full one): the cells it moves at all are
    chosen. That takes a fraction of the integer program's time on a large release, and
    ``protect`` checks the cell again afterwards, exactly, whichever way it was chosen. The
    integer program is asked only when the linear one finds nothing (its "no solution" is
    quick, and settles whether to look further out)."""
    from scipy.optimize import milp

    keys = sorted(ch.near(cell, hops), key=order)
    model = _Model(ch, cell, keys)
    if model.choosable and len(model.cost) > ch.exact_up_to:
        cap = float(ch.rule.threshold)
        relaxed = milp(**model.problem(cap, cap, integer=False))
        if relaxed.status == 0:
            chosen = model.chosen(relaxed.x, spare_totals=True)
            if chosen:
                return chosen
    # a node limit, not a time limit, bounds the search: the same figures then give the
    # same choice on a loaded machine too (the time limit is only a safety net)
    options = {"node_limit": _NODES, "time_limit": 120}
    if ch.capped and model.choosable:
        # chosen cells moving at most the threshold: a narrower model (its choice is one of
        # the full model's), whose integer program stays quick where counts are large and
        # the full model's "any count" bound makes branch and bound crawl (6 s for 300
        # variables at 10,000 people)
        cap = float(ch.rule.threshold)
        res = milp(**model.problem(cap, cap, integer=True), options=options)
        if res.x is not None and (chosen := model.chosen(res.x)):
            return chosen
    res = milp(**model.problem(None, None, integer=True), options=options)
    if res.x is None:
        return None if hops >= 8 else complements(ch, cell, hops + 2)
    return model.chosen(res.x) or None


class _Model:
    """The single-cell protection model of ``cell`` over ``keys`` (see ``complements``):
    variables ``up`` (n), ``down`` (n) and one choice ``z`` per visible cell that may be
    hidden."""

    def __init__(self, ch: _Chooser, cell: Key, keys: list[Key]) -> None:
        from scipy import sparse  # the solver loads only when a release is protected

        rule, system = ch.rule, ch.system
        self.keys = keys
        index = {k: i for i, k in enumerate(keys)}
        n = self.n = len(keys)
        values = system.values
        value = np.array([values[k] for k in keys], dtype=float)
        hidden = ch.primary | ch.secondary
        self.choosable = [k for k in keys if k in ch.free]
        m = len(self.choosable)
        nv = 2 * n + m
        self.big = float(value.sum() + rule.threshold + 1)
        lo, hi = np.zeros(nv), np.zeros(nv)
        for k, i in index.items():
            if k in ch.primary:
                lo[i], hi[i] = rule.primary_range
            elif k in hidden or k in ch.free:
                lo[i], hi[i] = 0, self.big
            else:
                lo[i] = hi[i] = value[i]
        lo[n : 2 * n], hi[n : 2 * n] = lo[:n], hi[:n]
        lo[2 * n :], hi[2 * n :] = 0, 1
        # every relation touching the cells, the cells further out held at their values
        self.a, self.rlo, self.rhi = matrix(system).rows(keys)
        a_coo = self.a.tocoo()
        self.a_coo = (a_coo.row.astype(np.int64), a_coo.col.astype(np.int64), a_coo.data)
        self.cols = np.array([index[k] for k in self.choosable], dtype=np.int64)
        self.zv = value[self.cols]
        c_up, c_down = index[cell], n + index[cell]
        self.width_row = None
        if cell in ch.primary:
            a_, b_ = rule.primary_range
            lo[c_up], lo[c_down] = b_, a_
            hi[c_up], hi[c_down] = b_, a_
        else:
            row = np.zeros(nv)
            row[c_up], row[c_down] = 1.0, -1.0
            self.width_row = (sparse.csr_array(row.reshape(1, -1)), rule.protection_width)
        self.lo, self.hi = lo, hi
        # a hidden zero is dear (a reader loses a sure nothing), a total dearer still
        self.cost = np.zeros(nv)
        self.cost[2 * n :] = [
            (1.0 + (values[k] or _ZERO_COST) + 1000.0 * ch.as_total.get(k, 0)) * ch.dear.get(k, 1.0)
            for k in self.choosable
        ]

    def problem(self, up_cap: float | None, down_cap: float | None, *, integer: bool) -> dict:
        """``milp``'s arguments. A chosen cell may move up by ``up_cap`` and down by
        ``down_cap`` (None: as far as the full model lets it: any count, down to 0)."""
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint

        n, m = self.n, len(self.choosable)
        zv = self.zv
        up = np.full(m, self.big if up_cap is None else up_cap)
        down = zv if down_cap is None else np.minimum(zv, down_cap)
        # Two copies (the cell pushed up, then down), each: every relation over that copy's
        # cells, then each choosable cell's two rows side by side, y away from its value
        # only when chosen: y - up*z <= v, y + down*z >= v. (The order the solver meets the
        # rows in decides between equally cheap choices; this one keeps the choices made
        # before.) Written as one list of coefficients: stacking sparse blocks took most of
        # the time of building a model.
        a_rows, a_cols, a_vals = self.a_coo
        r = self.a.shape[0]
        j = np.arange(m)
        z = 2 * n + j
        ones = np.ones(m)
        rows, cols, vals = [], [], []
        for copy in (0, 1):
            top = copy * (r + 2 * m)
            first, second = top + r + 2 * j, top + r + 2 * j + 1
            rows += [a_rows + top, first, first, second, second]
            cols += [a_cols + copy * n, self.cols + copy * n, z, self.cols + copy * n, z]
            vals += [a_vals, ones, -up, ones, down]
        rows, cols, vals = (np.concatenate(x) for x in (rows, cols, vals))
        kept = vals != 0  # a cell at 0 cannot move down: no coefficient, as the solver wants
        matrix_ = sparse.csr_array(
            (vals[kept], (rows[kept], cols[kept])), shape=(2 * (r + 2 * m), 2 * n + m)
        )
        bounds_lo = np.column_stack([np.full(m, -math.inf), zv]).ravel()
        bounds_hi = np.column_stack([zv, np.full(m, math.inf)]).ravel()
        row_lo = [self.rlo, bounds_lo, self.rlo, bounds_lo]
        row_hi = [self.rhi, bounds_hi, self.rhi, bounds_hi]
        constraints = [LinearConstraint(matrix_, np.concatenate(row_lo), np.concatenate(row_hi))]
        if self.width_row is not None:
            constraints.append(LinearConstraint(self.width_row[0], self.width_row[1], math.inf))
        nv = len(self.cost)
        return {
            "c": self.cost,
            "constraints": constraints,
            "integrality": np.ones(nv) if integer else np.zeros(nv),
            "bounds": Bounds(self.lo, self.hi),
        }

    def chosen(self, x: np.ndarray, *, spare_totals: bool = False) -> list[Key]:
        """The cells ``x`` hides. With ``spare_totals`` (a linear program's fractions), a
        total the solution leans on only a little (under half) is left shown if anything else
        is chosen: a headline count hidden for a fraction's sake costs a reader most, and
        ``protect`` checks the cell again, choosing more if this was not enough."""
        z = x[2 * self.n :]
        out = [k for j, k in enumerate(self.choosable) if z[j] > 1e-6]
        if spare_totals:
            dear = self.cost[2 * self.n :] >= 1000.0
            kept = [
                k
                for j, k in enumerate(self.choosable)
                if z[j] > 1e-6 and (z[j] >= 0.5 or not dear[j])
            ]
            if kept:
                return kept
        return out
