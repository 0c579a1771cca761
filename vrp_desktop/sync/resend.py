"""Sending again the records whose area the partnership's rule now changes.

The rule (``quasi``) is worked out at each build over everyone the VRP holds or will hold from
this provider, so whose postcode district travels coarsened changes over time: a rule arrives,
its k changes, an erasure shrinks a group, new people grow one. A record the VRP already holds
would otherwise keep the area it was sent with until it changed for another reason, so the VRP
would keep finer districts than the rule allows (or needlessly coarse ones).

So every build remembers, per person, the area their record travelled with
(``participant_sent_area``: district, local authority, or neither), and before it streams
compares that with the area the rule gives them now. Those that differ get a new version and
go back to ``valid``, so they travel in this batch like any changed record: the VRP replaces
its older version (a higher version wins, ``held``), and the ordering and erasure rules are
the ones every record obeys (an erasure's tombstone carries the newer version). All of it is
written in the build's one transaction: a build that dies leaves nothing marked.

A record sent before this table existed has no row and counts as having travelled with its
raw district: the first build under a rule re-sends anyone it coarsens (at worst once more
than needed, never leaving a finer district at the VRP).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # quasi describes a batch's re-sends with ``describe`` below
    from vrp_desktop.sync import quasi

#: states of a record the VRP holds as it is here (valid ones travel anyway; draft and
#: rejected ones are outside the rule's population, ``quasi.SHARED_STATES``)
HELD_STATES = ("queued", "sent", "accepted")
_HELD = ", ".join(f"'{state}'" for state in HELD_STATES)
Area = tuple[str | None, str | None]  # (postcode district, local authority code)

_DUE_SQL = (
    "SELECT p.id, p.postcode_district, a.participant_id IS NOT NULL, a.postcode_district, "
    "a.local_authority FROM participant AS p "
    "LEFT JOIN participant_sent_area AS a ON a.participant_id = p.id "
    f"WHERE p.erased_at IS NULL AND p.sync_state IN ({_HELD}) "
    "ORDER BY p.id"
)
_RECORD_SQL = (
    "INSERT INTO participant_sent_area (participant_id, version, postcode_district, "
    "local_authority) VALUES (?, ?, ?, ?) ON CONFLICT (participant_id) DO UPDATE SET "
    "version = excluded.version, postcode_district = excluded.postcode_district, "
    "local_authority = excluded.local_authority"
)
_MARK_SQL = (
    "UPDATE participant SET version = version + 1, sync_state = 'valid', "
    f"rejection_reason = NULL WHERE id = ? AND sync_state IN ({_HELD})"
)


def _level(area: Area) -> int:
    """How coarse an area is: 0 a district, 1 a local authority, 2 none (withheld)."""
    return 0 if area[0] else 1 if area[1] else 2


def travelling(raw: str | None, change: tuple[str, str | None] | None) -> Area:
    """The area a record travels with: its raw district, or what the rule changed it to."""
    if change is None:
        return (raw, None)
    kind, code = change
    return (None, code) if kind == "local_authority" else (None, None)


@dataclasses.dataclass
class Due:
    """Held records whose area under the rule differs from what last travelled."""

    ids: list[str]
    coarser: int = 0  # now coarser than the VRP holds (a rule arrived, k rose, a group shrank)
    finer: int = 0  # now finer (their group grew): their data was needlessly coarse

    def figures(self) -> dict[str, int]:
        return {"records": len(self.ids), "coarser": self.coarser, "finer": self.finer}


def due(conn, coarsening: quasi.Coarsening) -> Due:
    """Which held records must travel again so the VRP holds exactly the rule's areas."""
    found = Due([])
    for pid, raw, known, district, authority in conn.exec_driver_sql(_DUE_SQL):
        last: Area = (district, authority) if known else (raw, None)
        now = travelling(raw, coarsening.changes.get(pid))
        if now == last:
            continue
        found.ids.append(pid)
        if _level(now) > _level(last):
            found.coarser += 1
        elif _level(now) < _level(last):
            found.finer += 1
    return found


def mark(conn, ids: Iterable[str]) -> None:
    """A new version, back to ``valid``: the build streams them with everything else."""
    rows = [(pid,) for pid in ids]
    if rows:
        conn.exec_driver_sql(_MARK_SQL, rows)


def record(conn, rows: list[tuple[str, int, str | None, str | None]]) -> None:
    """Remember ``(id, version, district, local authority)`` as what travelled."""
    if rows:
        conn.exec_driver_sql(_RECORD_SQL, rows)


def describe(figures: dict[str, int] | None) -> str:
    """The re-sent records of a batch, for people ('' when there were none)."""
    if not figures or not figures.get("records"):
        return ""
    n, coarser, finer = figures["records"], figures["coarser"], figures["finer"]
    parts = []
    if coarser:
        parts.append(f"{coarser} now with a coarser area")
    if finer:
        parts.append(f"{finer} back to a finer area")
    detail = f" ({', '.join(parts)})" if parts else ""
    return (
        f"{n} {'record' if n == 1 else 'records'} the VRP already held "
        f"{'was' if n == 1 else 'were'} sent again because the partnership's rule now gives "
        f"{'that young person' if n == 1 else 'those young people'} a different area{detail}; "
        "the VRP replaces what it held."
    )


def describe_waiting(n: int) -> str:
    """Before a build: how many held records the next batch will send again, for people."""
    if not n:
        return ""
    return (
        f"{n} {'record' if n == 1 else 'records'} the VRP already holds will be sent again in "
        "the next batch: the partnership's rule for small groups now gives "
        f"{'that young person' if n == 1 else 'them'} a different area."
    )
