"""A release as one system of linear constraints over published counts of people.

Every cell of every table published for a period gets a *key* naming the quantity it counts
(not where it sits), so the same margin printed in several tables — a provider's total in each
breakdown, the partnership's column for a provider and that provider's own total — is one
unknown to an attacker, and to us. Tables add relations between keys: a total equals the sum of
its parts, or, where one person can be in several parts (two interventions, two providers),
lies between the largest part and their sum.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable, Iterable, Sequence

Key = Hashable


@functools.lru_cache(maxsize=1 << 16)
def order(key: Key) -> str:
    """A sort key for a cell that is the same in every process (``repr`` of a frozenset is
    not: string hashing is salted per process). Every choice ``protect`` makes follows this
    order, so a provider and the partnership working from the same figures choose alike."""

    def canon(k):
        if isinstance(k, frozenset):
            return sorted((canon(x) for x in k), key=repr)
        if isinstance(k, tuple):
            return [canon(x) for x in k]
        return k

    return repr(canon(key))


@dataclasses.dataclass(frozen=True)
class Relation:
    """``total`` against ``parts``: equal to their sum when ``exact``, otherwise at least the
    largest part and at most the sum (people counted once in the total, in several parts)."""

    total: Key
    parts: tuple[Key, ...]
    exact: bool


class ReleaseError(ValueError):
    """Two tables of one release disagree about the same quantity: a bug in the keys."""


@dataclasses.dataclass
class Release:
    values: dict[Key, int] = dataclasses.field(default_factory=dict)
    relations: list[Relation] = dataclasses.field(default_factory=list)

    def cell(self, key: Key, value: float) -> Key:
        """Register a published count; the same key twice must carry the same value."""
        v = round(value)
        old = self.values.setdefault(key, v)
        if old != v:
            raise ReleaseError(f"the count {key!r} is published as both {old} and {v}")
        return key

    def relate(self, total: Key, parts: Sequence[Key], *, exact: bool | None = None) -> None:
        """``total`` over ``parts`` (all registered). Exactness defaults to what the figures
        show: a total equal to the sum of its parts is treated as exact, because an attacker
        may assume so and be right."""
        if total in parts:  # the rest of the parts are zero (and zero is never hidden)
            return
        parts = tuple(parts)
        if not parts:
            return
        if exact is None:
            exact = self.values[total] == sum(self.values[p] for p in parts)
        self.relations.append(Relation(total, parts, exact))

    def same(self, a: Key, b: Key) -> None:
        """Two keys for one quantity (published in two ways)."""
        if a != b:
            self.relate(a, (b,), exact=True)

    def grid(
        self,
        cells: Sequence[Sequence[tuple[Key, float]]],
        row_totals: Sequence[tuple[Key, float]],
        col_totals: Sequence[tuple[Key, float]],
        grand: tuple[Key, float],
    ) -> None:
        """A table: categories (rows) by splits (columns), with both margins and the grand
        total; each row and each column is a relation."""
        for key, value in [*(c for row in cells for c in row), *row_totals, *col_totals, grand]:
            self.cell(key, value)
        for row, total in zip(cells, row_totals, strict=True):
            self.relate(total[0], [k for k, _ in row])
        for j, total in enumerate(col_totals):
            self.relate(total[0], [row[j][0] for row in cells])
        self.relate(grand[0], [k for k, _ in row_totals])
        self.relate(grand[0], [k for k, _ in col_totals])

    def merge(self, others: Iterable[Release]) -> Release:
        """One system of this release and others (earlier releases of the same period)."""
        out = Release(dict(self.values), list(self.relations))
        for other in others:
            for key, value in other.values.items():
                out.cell(key, value)
            out.relations.extend(other.relations)
        return out
