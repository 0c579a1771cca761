"""The tamper-evident audit log: every change, who made it, and why.

Each event's hash covers its content and the previous event's hash, so editing or removing
any event breaks the chain from there on. Identity fields are never written into events
(only that they changed), so erasing a person never needs the chain rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop import clock
from vrp_desktop.store.models import AuditEvent, utcnow

GENESIS = "0" * 64

#: fields whose values must never reach the audit log
REDACTED_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "preferred_name",
        "date_of_birth",
        "address",
        "phone",
        "email",
        "notes",
        "exit_detail",
    }
)


def redact(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy safe to log: identity and free-text values replaced by a marker."""
    if values is None:
        return None
    return {
        key: ("<set>" if value not in (None, "") else None) if key in REDACTED_FIELDS else value
        for key, value in values.items()
    }


def _canonical(event: AuditEvent) -> bytes:
    body = {
        # naive UTC text, as hashed before timestamps came back aware (clock.py)
        "at": clock.as_utc(event.at).replace(tzinfo=None).isoformat(),
        "username": event.username,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return json.loads(json.dumps(values, default=str))


def append(
    session: OrmSession,
    username: str,
    action: str,
    entity: str,
    entity_id: str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add the next event of the chain inside the caller's transaction."""
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    event = AuditEvent(
        at=utcnow(),
        username=username,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_jsonable(redact(before)),
        after=_jsonable(redact(after)),
        reason=reason,
        prev_hash=last or GENESIS,
        hash="",
    )
    event.hash = hashlib.sha256(_canonical(event)).hexdigest()
    session.add(event)
    session.flush()
    return event


@dataclasses.dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None

    def message(self) -> str:
        if self.ok:
            return f"Audit log intact: {self.events} events, every hash matches."
        return (
            f"Audit log broken at event {self.first_bad_seq}: {self.problem}. The log has been "
            "altered outside VRP Desktop; keep this workspace as it is and contact your VRP."
        )


def verify(session: OrmSession) -> ChainReport:
    """Recompute the chain from the first event."""
    previous = GENESIS
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.prev_hash != previous:
            return ChainReport(count, False, event.seq, "it does not follow the event before it")
        if hashlib.sha256(_canonical(event)).hexdigest() != event.hash:
            return ChainReport(count, False, event.seq, "its content does not match its hash")
        previous = event.hash
    return ChainReport(count, True)


def recent(session: OrmSession, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit))
    return [
        {
            "seq": e.seq,
            "at": clock.as_utc(e.at).isoformat(),
            "username": e.username,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "reason": e.reason,
        }
        for e in rows
    ]
