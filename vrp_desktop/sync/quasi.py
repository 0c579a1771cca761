"""How identifiable the people in a batch are from what travels with them (k-anonymity).

A participant travels as a pseudonym plus age band, gender, ethnicity and postcode district.
Someone who knows those four things about a young person can pick them out if nobody else in
the data shares them. For each batch we count people by those four values: ``unique`` is how
many are alone in their group, ``k`` the smallest group, ``under_5`` how many share their
values with fewer than four others. The figure goes in the manifest, the build's output and
on the Sync page, so a provider and the VRP see the risk before anyone else does.

The partnership's rule (``frameworks.quasi_rule``, from the signed framework pack) then acts on
it: ``coarsen`` works out, over everyone this provider sends (not one batch: a batch of three
changed records says nothing about how many others share their values), which people are in
groups smaller than the rule's ``min_k`` and coarsens their postcode district step by step (to
its local authority, then withheld). A coarsened district travels as ``local_authority`` (an
ONS code) with ``postcode_district`` blank; a withheld one travels exactly as a district that
was never recorded, so the two cannot be told apart.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from vrp_desktop.frameworks import quasi_rule
from vrp_desktop.frameworks.quasi_rule import QuasiRule
from vrp_desktop.store.models import Participant
from vrp_desktop.sync import resend

FIELDS = ("age_band", "gender", "ethnicity", "postcode_district")
SMALL = 5


def figure(groups: Counter, min_k: int | None = None) -> dict[str, Any]:
    """The k-anonymity figure of people counted by their quasi-identifier values
    (with ``under_k``, people in groups smaller than the rule's ``min_k``, when given)."""
    people = sum(groups.values())
    found = {
        "fields": list(FIELDS),
        "people": people,
        "unique": sum(1 for n in groups.values() if n == 1),
        "k": min(groups.values(), default=0),
        "under_5": sum(n for n in groups.values() if n < SMALL),
    }
    if min_k is not None:
        found["under_k"] = sum(n for n in groups.values() if n < min_k)
    return found


def key(record: dict[str, Any]) -> tuple:
    """The group a travelling record is in (a coarsened district counts as its authority)."""
    area = record.get("postcode_district") or record.get("local_authority")
    return (record.get("age_band"), record.get("gender"), record.get("ethnicity"), area)


def of_records(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return figure(Counter(key(r) for r in records))


SHARED_STATES = ("valid", "queued", "sent", "accepted")
RULE = "partnership.quasi_rule"  # workspace setting: the rule from the VRP's signed pack


def _population_query():
    columns = [getattr(Participant, f) for f in FIELDS]
    return select(Participant.id, *columns).where(
        Participant.erased_at.is_(None), Participant.sync_state.in_(SHARED_STATES)
    )


def population(session) -> dict[str, tuple]:
    """Everyone the VRP holds or will hold from this provider: id -> the four values."""
    return {row[0]: tuple(row[1:]) for row in session.execute(_population_query())}


def for_workspace(ws) -> dict[str, Any]:
    """The figure over everyone the VRP holds or will hold from this provider."""
    with ws.read() as session:
        people = population(session)
    return figure(Counter(people.values()))


def rule_of(ws) -> QuasiRule | None:
    """The partnership's rule this workspace received, or None (none published yet)."""
    return quasi_rule.from_json(ws.setting(RULE))


@dataclasses.dataclass
class Coarsening:
    """What the rule does to a population: per person the area that travels, and figures."""

    rule: QuasiRule | None
    #: id -> ("local_authority", code) or ("withheld", None), for the people it changes
    changes: dict[str, tuple[str, str | None]]
    before: dict[str, Any]
    after: dict[str, Any]

    def steps(self, ids: Iterable[str] | None = None) -> dict[str, int]:
        """How many of ``ids`` (default: everyone) each step changed."""
        chosen = self.changes if ids is None else {i: self.changes[i] for i in ids}
        counted = Counter(kind for kind, _code in chosen.values())
        return {"local_authority": counted["local_authority"], "withheld": counted["withheld"]}

    def apply(self, record: dict[str, Any]) -> str | None:
        """Coarsen one travelling participant record in place; the step taken, if any."""
        change = self.changes.get(record["id"])
        record.setdefault("local_authority", None)
        if change is None:
            return None
        kind, code = change
        record["postcode_district"] = None
        record["local_authority"] = code
        return kind


def coarsen(people: dict[str, tuple], rule: QuasiRule | None) -> Coarsening:
    """Apply ``rule`` to ``people`` (id -> age band, gender, ethnicity, district): people in a
    group smaller than ``min_k`` have their district coarsened, one step at a time."""
    min_k = rule.min_k if rule else None
    before = figure(Counter(people.values()), min_k)
    area: dict[str, str | None] = {pid: values[3] for pid, values in people.items()}
    if rule is not None:
        for step in rule.coarsen:
            groups = Counter((*people[pid][:3], area[pid]) for pid in people)
            for pid, values in people.items():
                current = area[pid]
                if current is None or groups[(*values[:3], current)] >= rule.min_k:
                    continue
                if step.to == "withheld":
                    area[pid] = None
                elif not current.startswith("LA:"):
                    code = rule.district_to_la(current)
                    if code is not None:
                        area[pid] = f"LA:{code}"
    changes: dict[str, tuple[str, str | None]] = {}
    for pid, values in people.items():
        if area[pid] == values[3]:
            continue
        if area[pid] is None:
            changes[pid] = ("withheld", None)
        else:
            changes[pid] = ("local_authority", area[pid][3:])
    after = figure(Counter((*people[pid][:3], area[pid]) for pid in people), min_k)
    return Coarsening(rule, changes, before, after)


def assess(ws) -> dict[str, Any]:
    """What the Sync page shows: the figure before and after the partnership's rule."""
    rule = rule_of(ws)
    with ws.read() as session:
        people = population(session)
    done = coarsen(people, rule)
    return {
        "rule": rule.summary() if rule else None,
        "min_k": rule.min_k if rule else None,
        "before": done.before,
        "after": done.after,
        "coarsened": done.steps(),
    }


def describe_batch(disclosure: dict[str, Any]) -> str:
    """What the rule did to one batch (its manifest's ``disclosure``), for people."""
    rule, held = disclosure.get("rule"), disclosure.get("held")
    again = resend.describe(disclosure.get("resent"))
    if not rule or not held:
        return (
            "Your partnership has not published a rule for small groups yet, so nothing was "
            "coarsened." + (f" {again}" if again else "")
        )
    steps = disclosure["coarsened"]
    changed = steps["local_authority"] + steps["withheld"]
    before, after = held["before"], held["after"]
    text = (
        f"Partnership rule ({rule['summary']}): {changed} of this batch's young people "
        f"coarsened ({steps['local_authority']} to local authority, {steps['withheld']} area "
        f"withheld). Over everyone the VRP holds from you, the smallest group is "
        f"{before['k']} before the rule and {after['k']} after."
    )
    if after["people"] and after["k"] < rule["min_k"]:
        text += (
            f" {after['under_k']} people are still in groups under {rule['min_k']}: the rule "
            "coarsens only the area."
        )
    if again:
        text += f" {again}"
    return text


def describe_rule(info: dict[str, Any]) -> str:
    """Before and after the rule, for people (Sync page, build output)."""
    before, after = info["before"], info["after"]
    if info.get("min_k") is None:
        return (
            "Your partnership has not published a rule for small groups yet (it comes in the "
            f"VRP's framework pack). Smallest group: {before['k']}."
        )
    if not before["people"]:
        return f"Partnership rule: {info['rule']}. No young people to measure yet."
    steps = info["coarsened"]
    changed = steps["local_authority"] + steps["withheld"]
    text = (
        f"Partnership rule: {info['rule']}. Smallest group {before['k']} before the rule, "
        f"{after['k']} after; {changed} people coarsened ({steps['local_authority']} to local "
        f"authority, {steps['withheld']} area withheld)."
    )
    if after["people"] and after["k"] < info["min_k"]:
        text += (
            f" {after['under_k']} people are still in groups under {info['min_k']}: the rule "
            "coarsens only the area, not age band, gender or ethnicity."
        )
    return text


def describe(fig: dict[str, Any]) -> str:
    """One sentence for people (build output, Sync page)."""
    if not fig["people"]:
        return "No young people in it."
    return (
        f"{fig['unique']} of {fig['people']} young people are the only one with their age "
        f"band, gender, ethnicity and postcode district (smallest group: {fig['k']}; "
        f"{fig['under_5']} in groups under {SMALL})."
    )
