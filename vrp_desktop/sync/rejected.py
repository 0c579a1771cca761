"""Records the VRP rejected: listing them with the VRP's reason, and sending them again.

A receipt marks a record ``rejected`` with the VRP's reason (``receipts``). Most reasons ask
for a fix, and an edit makes a new version that travels by itself (``services.common.bump``).
Some do not: the VRP's own check was wrong (until a release fixed it, the VRP refused every
cancelled session and every "other" exit for want of a note that never leaves the provider),
or it holds a different copy of the same version. Then there is nothing to edit, and the
record is sent again as it is: a new version, checked again with the rules the services use
on save (``services.quality.revalidate``), ``valid`` so it travels in the next batch, or
``draft`` with its findings (the Sync page's quarantine) if it no longer passes them.

Erased people and tombstones are not listed: an erasure travels as its tombstone, which
carries no reason to show and nothing to send again but itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal

from sqlalchemy import select

from vrp_desktop.errors import NotFound, VrpError
from vrp_desktop.services import audit, quality
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import bump
from vrp_desktop.store.models import (
    Enrolment,
    Intervention,
    OutcomeResponse,
    Participant,
    Session,
)

#: ``send_again(ws, ALL)``: every record the VRP rejected
ALL: Final = "all"

#: record kinds in the order they are listed (a young person before what hangs off them)
KINDS = ("participant", "enrolment", "session", "outcome_response", "intervention")
KIND_WORDS = {
    "participant": "Young person",
    "enrolment": "Enrolment",
    "session": "Session",
    "outcome_response": "Questionnaire",
    "intervention": "Intervention",
}
_MODELS = {
    "participant": Participant,
    "enrolment": Enrolment,
    "session": Session,
    "outcome_response": OutcomeResponse,
    "intervention": Intervention,
}


def _when(value) -> str:
    return f"{value:%d/%m/%Y %H:%M}" if value is not None else "no date"


def _measure_name(measure_id: str) -> str:
    try:
        return fw_service.measure(measure_id).name
    except Exception:  # a measure no longer installed: its id says enough
        return measure_id


def _labelled(session, entity: str, limit: int | None) -> list[dict[str, Any]]:
    """The rejected records of one kind, each with a label a worker knows."""
    model = _MODELS[entity]
    where = [model.sync_state == "rejected"]
    if entity == "participant":
        query = select(Participant.id, Participant.reference, Participant.id)
        where.append(Participant.erased_at.is_(None))
    elif entity == "enrolment":
        query = (
            select(
                Enrolment.id,
                Participant.reference + " · " + Intervention.name,
                Enrolment.participant_id,
            )
            .join(Participant, Participant.id == Enrolment.participant_id)
            .join(Intervention, Intervention.id == Enrolment.intervention_id)
        )
    elif entity == "session":
        query = select(Session.id, Intervention.name, Session.starts_at).join(
            Intervention, Intervention.id == Session.intervention_id
        )
    elif entity == "outcome_response":
        query = select(
            OutcomeResponse.id,
            Participant.reference,
            OutcomeResponse.measure_id,
            OutcomeResponse.timepoint,
            OutcomeResponse.participant_id,
        ).join(Participant, Participant.id == OutcomeResponse.participant_id)
    else:
        query = select(Intervention.id, Intervention.name)
    query = query.add_columns(model.rejection_reason, model.version).where(*where)
    query = query.order_by(model.updated_at.desc(), model.id)
    if limit is not None:
        query = query.limit(limit)
    items = []
    for row in session.execute(query):
        *values, reason, version = row
        opens = values[0]
        if entity == "participant":
            label = values[1]
        elif entity == "enrolment":
            label, opens = values[1], values[2]
        elif entity == "session":
            label = f"{values[1]} · {_when(values[2])}"
        elif entity == "outcome_response":
            label = (
                f"{values[1]} · {_measure_name(values[2])} ({(values[3] or '').replace('_', ' ')})"
            )
        else:
            label = values[1]
        items.append(
            {
                "entity": entity,
                "id": values[0],
                "kind": KIND_WORDS[entity],
                "label": label,
                "reason": reason or "Rejected by the VRP (no reason given).",
                "version": version,
                #: what opens it: the young person for an enrolment, else the record itself
                "opens": opens,
            }
        )
    return items


def list_rejected(ws, *, limit: int = 500) -> list[dict[str, Any]]:
    """Every record the VRP rejected (at most ``limit``), young people first, with a label a
    worker knows (a reference; a session's intervention and start), its kind and the VRP's
    reason. Reads only; any role may look."""
    items: list[dict[str, Any]] = []
    with ws.read() as session:
        for entity in KINDS:
            left = limit - len(items)
            if left <= 0:
                break
            items += _labelled(session, entity, left)
    return items


def _chosen(session, which: Iterable[str] | Literal["all"]) -> list[tuple[str, Any]]:
    """The records to send again as ``(kind, record)``; unknown ids, and records that are not
    rejected, are refused by name before anything changes."""
    if which == ALL:
        found = []
        for entity in KINDS:
            model = _MODELS[entity]
            query = select(model).where(model.sync_state == "rejected").order_by(model.id)
            if entity == "participant":
                query = query.where(Participant.erased_at.is_(None))
            found += [(entity, record) for record in session.scalars(query)]
        if not found:
            raise VrpError("The VRP has rejected no record: there is nothing to send again.")
        return found
    wanted = list(dict.fromkeys(str(i).strip() for i in which if str(i).strip()))
    if not wanted:
        raise VrpError("Say which records to send again (their ids), or send them all.")
    found, seen = [], set()
    for entity in KINDS:
        model = _MODELS[entity]
        for record in session.scalars(select(model).where(model.id.in_(wanted))):
            found.append((entity, record))
            seen.add(record.id)
    unknown = [i for i in wanted if i not in seen]
    if unknown:
        raise NotFound(
            f"No record with id {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''} in "
            "this workspace ('vrp batch rejected' lists the rejected ones). Nothing was changed."
        )
    other = [
        (entity, r)
        for entity, r in found
        if r.sync_state != "rejected" or getattr(r, "erased_at", None) is not None
    ]
    if other:
        entity, r = other[0]
        state = "erased" if getattr(r, "erased_at", None) is not None else r.sync_state
        raise VrpError(
            f"{KIND_WORDS[entity]} {r.id} was not rejected by the VRP (it is {state})"
            + (f", nor were {len(other) - 1} more of those named" if len(other) > 1 else "")
            + ". Nothing was changed."
        )
    order = {i: n for n, i in enumerate(wanted)}
    return sorted(found, key=lambda pair: order[pair[1].id])


def send_again(ws, which: Iterable[str] | Literal["all"]) -> dict[str, Any]:
    """Send rejected records again: ``which`` is ``ALL`` or their ids.

    In one transaction, each gets a new version and is checked again with the services' own
    rules: ``valid`` (it travels in the next batch, a session with its register) or ``draft``
    with its findings when it no longer passes them (it stays behind, in the quarantine, until
    fixed). Needs the role that sends batches. Returns the counts and each record's new state.
    """
    ws.require("send_batch")
    with ws.unit() as session:
        chosen = _chosen(session, which)
        done = []
        for entity, record in chosen:
            bump(record)  # a new version; the VRP's reason no longer applies to it
            quality.revalidate(session, entity, record)
            done.append(
                {
                    "entity": entity,
                    "id": record.id,
                    "version": record.version,
                    "sync_state": record.sync_state,
                    "findings": [f["message"] for f in record.findings or []],
                }
            )
        session.flush()
        again = sum(1 for d in done if d["sync_state"] == "valid")
        counts = {"sent_again": again, "needing_fix": len(done) - again}
        audit.append(
            session,
            ws.user.username,
            "record.send_again",
            done[0]["entity"] if len(done) == 1 else "workspace",
            done[0]["id"] if len(done) == 1 else None,
            after={
                **counts,
                "records": [[d["entity"], d["id"], d["version"], d["sync_state"]] for d in done],
            },
        )
    return {**counts, "records": done}


def describe(result: dict[str, Any]) -> str:
    """What ``send_again`` did, in a sentence or two for people."""
    again, fix = result["sent_again"], result["needing_fix"]
    parts = []
    if again:
        parts.append(
            f"{again} {'record goes' if again == 1 else 'records go'} to the VRP again in the "
            "next batch"
        )
    if fix:
        parts.append(
            f"{fix} {'now needs' if fix == 1 else 'now need'} a fix first (listed under "
            "'Staying behind until fixed', with what to change)"
        )
    return "; ".join(parts) + "." if parts else "Nothing was sent again."
