"""The one door between the evaluation and the partnership's disclosure control.

Everything the evaluation publishes goes through this module. ``Publisher`` collects every
count of the pack by what it counts, with the sums it is part of, and protects them all as one
release with the shared disclosure control (``vrp_desktop/disclosure/``): a count of 1 to
threshold-1 people is hidden (``<5``), and others (``[c]``) until no hidden count can be
worked out or narrowed from everything else the pack shows. Statistics worked out from fewer
than ``threshold`` people, or over a hidden count, are not shown either (``[c]``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vrp_desktop.disclosure.release import Key, Release
from vrp_desktop.disclosure.rule import DEFAULT_THRESHOLD, SECONDARY_MARK, Rule

if TYPE_CHECKING:  # the solver loads only when protecting
    from vrp_desktop.disclosure.protect import Protection

#: what a hidden statistic (a mean, share or interval from too few people) shows
HIDDEN = SECONDARY_MARK


def primary_mark(threshold: int) -> str:
    return f"<{threshold}"


def is_hidden(value: object) -> bool:
    """True for any mark this module writes in place of a number."""
    return isinstance(value, str) and (value == HIDDEN or value.startswith("<"))


def enough(n: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a statistic over ``n`` people may be shown."""
    return n >= threshold or (n == 0 and threshold <= 1)


def statistic(value: float | None, n: int, threshold: int = DEFAULT_THRESHOLD):
    """A mean, interval end or effect size over ``n`` people: hidden when n is small, None
    (an empty cell) when it could not be worked out."""
    if n <= 0:
        return None
    if not enough(n, threshold):
        return HIDDEN
    return value


# -- the whole pack as one release -------------------------------------------------------------
#
# The functions above decide a table on its own. The pack publishes the same counts in several
# tables (the people paired on a score in Change, Reliable change, Dose and Outcomes by group)
# and the same breakdown at several levels (the partnership and each provider, a provider and
# each of its interventions), so a reader can add across tables and levels. ``Publisher``
# collects every count under a key naming what it counts, with the sums it is part of, while
# the tables are built; ``decide`` then protects them together with the shared disclosure
# control (``vrp_desktop.disclosure``), and only then are the tables' values written.


@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    """A count of people in a table, shown or hidden once the pack is decided."""

    key: Key
    value: int


@dataclasses.dataclass(frozen=True, slots=True)
class Share:
    """``num / den``, shown only when both counts are (so it reveals no hidden count)."""

    num: Cell
    den: Cell


@dataclasses.dataclass(frozen=True, slots=True)
class Given:
    """A statistic over the people of ``count``: hidden with it, and when they are too few."""

    count: Cell
    value: Any
    n: int


@dataclasses.dataclass(frozen=True, slots=True)
class Beside:
    """A figure worked out from a share's counts (a gap to the whole): shown where it is."""

    share: Share
    value: Any


class Publisher:
    """Every count the pack publishes, by key, with the sums it is part of, one release per
    unit (level and name); ``decide`` protects them all as one release."""

    def __init__(self, threshold: int) -> None:
        self.rule = Rule(threshold)
        self.units: dict[tuple, Release] = {}
        self.unit: tuple = ()
        self.protection: Protection | None = None

    def begin(self, unit: tuple) -> None:
        self.unit = unit
        self.units.setdefault(unit, Release())

    @property
    def release(self) -> Release:
        return self.units[self.unit]

    def count(self, what: tuple, n: int) -> Cell:
        """The unit's count of ``what`` (the same key twice must carry the same count)."""
        key = (self.unit, *what)
        self.release.cell(key, int(n))
        return Cell(key, int(n))

    def existing(self, what: tuple) -> Cell | None:
        """The unit's count of ``what`` if a table has published it."""
        key = (self.unit, *what)
        value = self.release.values.get(key)
        return None if value is None else Cell(key, value)

    def parts(self, whats: Sequence[tuple], values: Sequence[int], total: Cell) -> list[Cell]:
        """Counts that add up to ``total`` (people in exactly one of them)."""
        cells = [self.count(w, v) for w, v in zip(whats, values, strict=True)]
        self.relate(total, cells)
        return cells

    def relate(self, total: Cell, parts: Sequence[Cell]) -> None:
        _relate(self.release, total.key, [p.key for p in parts])

    def decide(
        self,
        links: Sequence[tuple[tuple, Sequence[tuple]]] = (),
        dear: Mapping[Key, float] | None = None,
    ) -> Protection:
        """Protect every unit's counts, then the whole pack with ``links`` (a unit and the
        units whose people make it up: the partnership and its providers, say), so a count
        added up across levels is protected too. ``dear``: the headline counts, each with how
        many times dearer it is to hide (see ``disclosure.protect``).

        Three rounds, each starting from what the one before hid: each unit alone (small
        models, cheap complementary choices); each unit with the units it is made of; the
        whole pack, which hides more only where adding across them all would still narrow a
        hidden count."""
        from vrp_desktop.disclosure import protect as protect_release

        hidden: set[Key] = set()
        for release in self.units.values():
            hidden |= protect_release(release, self.rule, dear=dear).secondary
        # then each unit with the units it is made of (smallest first: a provider and its
        # interventions before the partnership and its providers), so most of what adding
        # across levels needs is chosen over a few units' models, not the whole pack's
        families = []
        for unit, children in links:
            members = [u for u in (unit, *children) if u in self.units]
            family = Release().merge(self.units[u] for u in members)
            _link(family, self.units.get(unit), children)
            families.append(family)
        for family in sorted(families, key=lambda f: len(f.values)):
            hidden |= protect_release(
                family, self.rule, hidden_from_start=hidden, quick_repair=True, dear=dear
            ).secondary
        whole = Release().merge(self.units.values())
        for unit, children in links:
            _link(whole, self.units.get(unit), children)
        # across units the models reach every level of the pack: a linear program rounded up
        # chooses there unless the model is small (the check after it stays exact)
        self.protection = protect_release(
            whole, self.rule, hidden_from_start=hidden, quick_repair=True, dear=dear
        )
        self.__dict__.pop("_marks", None)  # worked out again from this decision
        return self.protection

    def hidden(self, cell: Cell) -> bool:
        return cell.key in self._marks

    def shown(self, value: Any) -> Any:
        """What a table shows for ``value`` (a Cell, Share, Given, Beside or a plain figure).
        (Called for every value of every table: a partnership pack has 70,000.)"""
        kind = value.__class__
        if kind is Cell:
            mark = self._marks.get(value.key)
            return mark if mark is not None else self.rule.shown(value.value)
        if kind is Share:
            if value.den.value == 0:
                return None
            marks = self._marks
            if value.num.key in marks or value.den.key in marks:
                return HIDDEN
            return value.num.value / value.den.value
        if kind is Given:
            if value.n <= 0:
                return None
            if value.count.key in self._marks:
                return HIDDEN
            return statistic(value.value, value.n, self.rule.threshold)
        if kind is Beside:
            share = self.shown(value.share)
            return share if share is None or is_hidden(share) else value.value
        return value

    @functools.cached_property
    def _marks(self) -> dict[Key, str]:
        """Each hidden cell's mark (``Protection.mark``), once the pack is decided."""
        protection = self.protection
        marks = dict.fromkeys(protection.secondary, protection.rule.secondary_mark)
        return marks | dict.fromkeys(protection.primary, protection.rule.primary_mark)


def _link(release: Release, unit: Release | None, children: Sequence[tuple]) -> None:
    """Each count of ``unit`` over the same count in each of ``children`` (unit names)."""
    for key in unit.values if unit is not None else ():
        _relate(release, key, [(child, *key[1:]) for child in children])


def _relate(release: Release, total: Key, parts: Sequence[Key]) -> None:
    """``total`` over those of ``parts`` that count anyone: equal to their sum where it is,
    else at least the largest and at most the sum (a person in two of them) where that holds.
    Only what holds in the figures is written down: that is what a reader could rely on."""
    values = release.values
    whole = values.get(total)
    if not whole:
        return
    got = [values.get(p) for p in parts]
    counted = [p for p, v in zip(parts, got, strict=True) if v]
    if counted:
        got = [v for v in got if v]
        if max(got) <= whole <= sum(got):
            release.relate(total, counted)
