"""How identifiable the people in a batch are from what travels with them (k-anonymity).

A participant travels as a pseudonym plus age band, gender, ethnicity and postcode district.
Someone who knows those four things about a young person can pick them out if nobody else in
the data shares them. For each batch we count people by those four values: ``unique`` is how
many are alone in their group, ``k`` the smallest group, ``under_5`` how many share their
values with fewer than four others. The figure goes in the manifest, the build's output and
on the Sync page, so a provider and the VRP see the risk before anyone else does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from vrp_desktop.store.models import Participant

FIELDS = ("age_band", "gender", "ethnicity", "postcode_district")
SMALL = 5


def figure(groups: Counter) -> dict[str, Any]:
    """The k-anonymity figure of people counted by their quasi-identifier values."""
    people = sum(groups.values())
    return {
        "fields": list(FIELDS),
        "people": people,
        "unique": sum(1 for n in groups.values() if n == 1),
        "k": min(groups.values(), default=0),
        "under_5": sum(n for n in groups.values() if n < SMALL),
    }


def key(record: dict[str, Any]) -> tuple:
    return tuple(record.get(f) for f in FIELDS)


def of_records(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return figure(Counter(key(r) for r in records))


def for_workspace(ws) -> dict[str, Any]:
    """The figure over everyone the VRP holds or will hold from this provider."""
    columns = [getattr(Participant, f) for f in FIELDS]
    with ws.read() as session:
        rows = session.execute(
            select(*columns).where(
                Participant.erased_at.is_(None),
                Participant.sync_state.in_(("valid", "queued", "sent", "accepted")),
            )
        ).all()
    return figure(Counter(tuple(r) for r in rows))


def describe(fig: dict[str, Any]) -> str:
    """One sentence for people (build output, Sync page)."""
    if not fig["people"]:
        return "No young people in it."
    return (
        f"{fig['unique']} of {fig['people']} young people are the only one with their age "
        f"band, gender, ethnicity and postcode district (smallest group: {fig['k']}; "
        f"{fig['under_5']} in groups under {SMALL})."
    )
