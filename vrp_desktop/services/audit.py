"""The tamper-evident audit log: every change, who made it, and why.

Each event's hash covers its content and the previous event's hash, so editing or removing
any event breaks the chain from there on. Identity fields are never written into events
(only that they changed), so erasing a person never needs the chain rewritten; free-text
reasons are treated the same way: the chain records that a reason was given, and its words
are kept beside it in ``audit_reason`` (one row per event), where erasing a person deletes the
words of every event about them.

Removing the *last* events leaves a shorter chain that still links up, so the head (sequence
and hash of the newest event) is anchored outside the chain: in the ``audit_head`` setting,
written in the same transaction as every event, and in every backup and batch manifest.
``verify`` reports a chain that ends before an anchor as truncated. Every unit is a
``BEGIN IMMEDIATE`` transaction, so two writers queue and can never append to the same head.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from vrp_desktop import clock
from vrp_desktop.store.models import AuditEvent, AuditReason, Setting, utcnow

GENESIS = "0" * 64
#: the setting that holds the newest event's sequence and hash (``{"seq": n, "hash": h}``)
HEAD_SETTING = "audit_head"
#: what the chain keeps of a free-text reason
REASON_GIVEN = "<given>"
#: the longest reason kept (a sentence or two, never a document)
MAX_REASON = 1000

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
    keep_words: bool = True,
) -> AuditEvent:
    """Add the next event of the chain inside the caller's transaction.

    A reason's words go beside the chain (``keep_words=False`` for a reason that is about a
    person being erased, which must not outlive them).
    """
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    event = AuditEvent(
        at=utcnow(),
        username=username,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_jsonable(redact(before)),
        after=_jsonable(redact(after)),
        reason=REASON_GIVEN if reason and reason.strip() else None,
        prev_hash=last or GENESIS,
        hash="",
    )
    event.hash = hashlib.sha256(_canonical(event)).hexdigest()
    session.add(event)
    session.flush()
    if event.reason and keep_words:
        session.add(AuditReason(event_seq=event.seq, text=reason.strip()[:MAX_REASON]))
    _set_head(session, Head(event.seq, event.hash))
    return event


def forget_reasons(session: OrmSession, entity_ids: list[str]) -> int:
    """Delete the words of every reason given on events about these records (erasure)."""
    from sqlalchemy import delete

    removed = 0
    for start in range(0, len(entity_ids), 500):
        chunk = entity_ids[start : start + 500]
        seqs = select(AuditEvent.seq).where(AuditEvent.entity_id.in_(chunk))
        result = session.execute(delete(AuditReason).where(AuditReason.event_seq.in_(seqs)))
        removed += result.rowcount or 0
    return removed


def events(
    session: OrmSession, *, entity_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest events (optionally about one record), with a reason's words where kept."""
    query = (
        select(AuditEvent, AuditReason.text)
        .outerjoin(AuditReason, AuditReason.event_seq == AuditEvent.seq)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "username": e.username,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "reason": words if words is not None else ("(erased)" if e.reason else None),
        }
        for e, words in session.execute(query)
    ]


@dataclasses.dataclass(frozen=True)
class Head:
    """The newest event of the chain: what backups and batches carry as an anchor."""

    seq: int
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def from_value(cls, value: Any) -> Head | None:
        """A head from a manifest or setting value, or None when it is not shaped like one."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if not isinstance(value, dict):
            return None
        seq, digest = value.get("seq"), value.get("hash")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            return None
        if not isinstance(digest, str) or len(digest) != 64:
            return None
        return cls(seq, digest)


def head(session: OrmSession) -> Head:
    """The chain's newest event (sequence 0 and the genesis hash when it is empty)."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return Head(row[0], row[1]) if row else Head(0, GENESIS)


def _set_head(session: OrmSession, value: Head) -> None:
    text = json.dumps(value.as_dict(), sort_keys=True)
    row = session.get(Setting, HEAD_SETTING)
    if row is None:
        session.add(Setting(key=HEAD_SETTING, value=text))
    else:
        row.value = text


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


def batch_anchors(session: OrmSession) -> tuple[Head, ...]:
    """The heads recorded in the manifests of batches this workspace built."""
    from vrp_desktop.store.models import Batch

    found = []
    for manifest in session.scalars(select(Batch.manifest).where(Batch.direction == "out")):
        head_ = Head.from_value(manifest.get("audit_head")) if isinstance(manifest, dict) else None
        if head_ is not None:
            found.append(head_)
    return tuple(found)


def verify(session: OrmSession, anchors: tuple[Head, ...] = ()) -> ChainReport:
    """Recompute the chain from the first event, then check it reaches every anchor: the
    ``audit_head`` setting, the heads in this workspace's own batch manifests, and any
    ``anchors`` given (e.g. from backup files, ``backup.audit_anchor``)."""
    anchors = (*batch_anchors(session), *anchors)
    previous = GENESIS
    count = 0
    hashes: dict[int, str] = {}
    last_seq = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        count += 1
        if event.prev_hash != previous:
            return ChainReport(count, False, event.seq, "it does not follow the event before it")
        if hashlib.sha256(_canonical(event)).hexdigest() != event.hash:
            return ChainReport(count, False, event.seq, "its content does not match its hash")
        previous = event.hash
        hashes[event.seq] = event.hash
        last_seq = event.seq
    setting = session.get(Setting, HEAD_SETTING)
    recorded = Head.from_value(setting.value) if setting is not None else None
    if setting is not None and recorded is None:
        return ChainReport(count, False, last_seq, "the recorded head of the log is damaged")
    for anchor in (*((recorded,) if recorded else ()), *anchors):
        if anchor.seq == 0:
            continue
        if anchor.seq > last_seq:
            return ChainReport(
                count,
                False,
                last_seq + 1,
                f"the log was cut short: it ends at event {last_seq}, but event {anchor.seq} "
                "was recorded",
            )
        if hashes.get(anchor.seq) != anchor.hash:
            return ChainReport(
                count, False, anchor.seq, "it is not the event that was recorded at this point"
            )
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
