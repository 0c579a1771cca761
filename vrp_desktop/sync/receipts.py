"""Receipts: the VRP's signed answer to a batch, and the provider closing the loop with it.

A receipt is JSON Lines: a header (receipt id, batch, provider, VRP), one line per record of
the batch with its outcome (accepted, unchanged, superseded, pending - held, waiting for a
record it refers to - or rejected with the reason), and
a trailer with the counts and the VRP's Ed25519 signature over the SHA-256 of every line
before it. It is written while the import runs and appears (atomically) only once the import
has committed. ``import_receipt`` verifies it completely before changing anything, then marks
each record accepted, or rejected with the reason shown on the record, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from vrp_desktop.ids import uuid7
from vrp_desktop.services import audit
from vrp_desktop.store.models import Batch, Participant, Receipt
from vrp_desktop.sync import common
from vrp_desktop.sync.common import Progress, SyncError

FORMAT = "vrp-receipt/1"
#: outcomes the provider treats as "the VRP holds this version"
#: ("pending": the VRP holds it, waiting for a record it refers to that has not arrived yet)
ACCEPTED = ("accepted", "unchanged", "superseded", "pending")
_TABLES = {
    "intervention": "intervention",
    "participant": "participant",
    "enrolment": "enrolment",
    "session": "session",
    "outcome_response": "outcome_response",
    "tombstone": "tombstone",
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAX_LINE = 1 << 20


def receipt_file_name(provider_code: str, batch_id: str) -> str:
    return f"receipt-{provider_code}-{batch_id}{common.RECEIPT_SUFFIX}"


class ReceiptWriter:
    """Writes a receipt line by line into ``handle``, hashing as it goes."""

    def __init__(self, handle: BinaryIO, signing_key: bytes, header: dict[str, Any]) -> None:
        self.handle = handle
        self.key = signing_key
        self.sha = hashlib.sha256()
        self.receipt_id = uuid7()
        self._write({"format": FORMAT, "receipt_id": self.receipt_id, **header})

    def _write(self, value: dict[str, Any]) -> None:
        line = common.canonical(value) + b"\n"
        self.sha.update(line)
        self.handle.write(line)

    def record(
        self, entity: str, record_id: str, version: int, outcome: str, reason: str | None
    ) -> None:
        line = {"e": entity, "id": record_id, "v": version, "o": outcome}
        if reason:
            line["r"] = reason
        self._write(line)

    def accepted(self, entity: str, records: list[tuple[str, int]]) -> None:
        """Lines for records taken as sent: byte for byte what ``record`` writes, built
        directly, since most lines of most receipts are these. Ids and entity names are
        checked ids and fixed words, so nothing in them needs escaping."""
        if not records:
            return
        head = f'{{"e":"{entity}","id":"'
        chunk = "".join(
            f'{head}{rid}","o":"accepted","v":{version}}}\n' for rid, version in records
        ).encode()
        self.sha.update(chunk)
        self.handle.write(chunk)

    def finish(self, counts: dict[str, int]) -> None:
        digest = self.sha.hexdigest()
        signature = common.sign(self.key, common.canonical({"sha256": digest, "counts": counts}))
        line = {"end": True, "sha256": digest, "counts": counts, "signature": common.b64(signature)}
        self.handle.write(common.canonical(line) + b"\n")


# -- provider side ------------------------------------------------------------------------------


def _lines(path: Path):
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except OSError as exc:
        raise SyncError(f"Cannot read {path.name}: {exc.strerror}.") from None
    with handle:
        for raw in handle:
            if len(raw) > _MAX_LINE:
                raise SyncError(f"{path.name} is not a receipt from your VRP.")
            yield raw


def _line_sound(value: Any) -> bool:
    """A record line has the shape ``import_receipt`` reads (checked before anything changes)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("e"), str)
        and isinstance(value.get("id"), str)
        and isinstance(value.get("v"), int)
        and not isinstance(value.get("v"), bool)
        and -(1 << 62) < value["v"] < 1 << 62
        and isinstance(value.get("o"), str)
        and isinstance(value.get("r", ""), str | None)
    )


def _header_sound(header: Any) -> bool:
    return (
        isinstance(header, dict)
        and header.get("format") == FORMAT
        and all(isinstance(header.get(k), str) for k in ("receipt_id", "batch_id", "provider_id"))
    )


def _verify(ws, path: Path) -> dict[str, Any]:
    """Read the whole receipt once: header, counts, signature. Changes nothing."""
    sha = hashlib.sha256()
    header = trailer = None
    count = 0
    bad = SyncError(
        f"{path.name} is not a complete receipt from your VRP (damaged, cut short, or not a "
        "receipt). Nothing was changed; ask the VRP to send it again."
    )
    try:
        for raw in _lines(path):
            if trailer is not None:
                raise bad
            value = json.loads(raw)
            if value.get("end"):
                trailer = value
                continue
            sha.update(raw)
            if header is None:
                header = value
            else:
                if not _line_sound(value):
                    raise bad
                count += 1
    except (ValueError, AttributeError, RecursionError):
        raise bad from None
    if header is None or trailer is None or not _header_sound(header):
        raise bad
    if not isinstance(trailer.get("counts"), dict):
        raise bad
    public = bytes.fromhex(ws.setting(common.VRP_SIGNING_PUBLIC))
    message = common.canonical({"sha256": sha.hexdigest(), "counts": trailer.get("counts")})
    signature = common.unb64(trailer.get("signature"), "signature")
    if trailer.get("sha256") != sha.hexdigest() or not common.verify(public, signature, message):
        raise SyncError(
            f"{path.name} is not signed by your VRP ({ws.setting(common.PARTNERSHIP)}), or it "
            "was changed on the way. Nothing was changed."
        )
    if header.get("vrp_id") != ws.setting(common.VRP_ID):
        raise SyncError(f"{path.name} is a receipt from another VRP. Nothing was changed.")
    if header.get("provider_id") != ws.setting(common.PROVIDER_ID):
        raise SyncError(
            f"{path.name} is a receipt for another provider ({header.get('provider_code')}), not "
            f"for {ws.setting(common.PROVIDER_CODE)}. Nothing was changed; pass it on to them."
        )
    return {**header, "counts": trailer.get("counts") or {}, "lines": count}


def import_receipt(ws, path: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Mark this workspace's records as the VRP's receipt says; idempotent per receipt."""
    common.require_joined(ws)
    ws.require("send_batch")
    path = Path(path)
    report = progress or common.no_progress
    header = _verify(ws, path)
    total = header["lines"]
    with ws.read() as session:
        batch = session.get(Batch, header.get("batch_id"))
        if batch is None or batch.direction != "out":
            raise SyncError(
                f"{path.name} answers a batch this workspace did not send. Nothing was changed."
            )
        if session.get(Receipt, header["receipt_id"]) is not None:
            raise SyncError(f"{path.name} was already imported; nothing was changed.")
        if batch.status == "receipted":
            # a receipt written again by the VRP (the batch offered twice, by the intake and
            # by stick, or reissued): signed afresh with the outcomes it recorded, so it says
            # what the first one said
            raise SyncError(
                f"{path.name} answers batch {batch.id}, whose receipt was already imported; "
                "nothing was changed."
            )
    rejected: list[dict[str, Any]] = []
    accepted = 0
    with ws.unit() as session:
        conn = session.connection()
        ok: dict[str, list[tuple[str, int]]] = {}
        bad: dict[str, list[tuple[str, str, int]]] = {}
        done = 0
        for raw in _lines(path):
            value = json.loads(raw)
            if "e" not in value:
                continue
            entity = value["e"]
            if entity not in _TABLES:
                continue
            if value["o"] in ACCEPTED:
                ok.setdefault(entity, []).append((value["id"], value["v"]))
                accepted += 1
            else:
                reason = value.get("r") or "Rejected by the VRP."
                bad.setdefault(entity, []).append((reason, value["id"], value["v"]))
            done += 1
            if done % 20000 == 0:
                _flush(conn, ok, bad, rejected)
                report("Marking records", done, total)
        _flush(conn, ok, bad, rejected)
        _localise(session, rejected)
        batch = session.get(Batch, header["batch_id"])
        batch.status = "receipted"
        counts = header["counts"]
        batch.report = {
            **(batch.report or {}),
            "accepted": accepted,
            "rejected": len(rejected),
            "receipt": counts,
        }
        session.add(
            Receipt(
                id=header["receipt_id"],
                batch_id=header["batch_id"],
                provider_id=header["provider_id"],
                accepted=accepted,
                rejected=len(rejected),
                body={"counts": counts, "file": path.name},
            )
        )
        audit.append(
            session,
            ws.user.username,
            "receipt.import",
            "batch",
            header["batch_id"],
            after={"accepted": accepted, "rejected": len(rejected)},
        )
        report("Marking records", total, total)
    return {"batch_id": header["batch_id"], "accepted": accepted, "rejected": rejected}


#: a session's register lines take its outcome. ``|| ''`` keeps SQLite off the index on
#: ``sync_state``: through it, every line still "sent" was read once per session (a receipt
#: for 12,000 sessions with 60,000 lines took five minutes); the session's own index finds
#: its few lines
REGISTER_SQL = (
    "UPDATE attendance SET sync_state = '{state}' WHERE session_id = ? "
    "AND sync_state || '' = 'sent'"
)


def _set_state(conn, entity: str, state: str, rows: list[tuple]) -> None:
    """Mark rows ``(reason, id, version)`` (or ``(id, version)``) with the VRP's outcome.

    Only records a batch carried and that are still ``sent`` at that version change: a newer
    local edit (state ``valid``) keeps its own state. Tombstones have no rejection reason
    column, so they are marked by their own statement; a record kind is never guessed.
    """
    table = _TABLES[entity]
    if entity == "tombstone":
        conn.exec_driver_sql(
            f"UPDATE tombstone SET sync_state = '{state}' "
            "WHERE id = ? AND version = ? AND sync_state = 'sent'",
            [row[-2:] for row in rows],
        )
        return
    if state == "accepted":
        sql = (
            f"UPDATE {table} SET sync_state = 'accepted', rejection_reason = NULL "
            "WHERE id = ? AND version = ? AND sync_state = 'sent'"
        )
    else:
        sql = (
            f"UPDATE {table} SET sync_state = 'rejected', rejection_reason = ? "
            "WHERE id = ? AND version = ? AND sync_state = 'sent'"
        )
    conn.exec_driver_sql(sql, rows)
    if entity == "session":
        conn.exec_driver_sql(REGISTER_SQL.format(state=state), [(row[-2],) for row in rows])


def _flush(conn, ok, bad, rejected: list[dict[str, Any]]) -> None:
    for entity, rows in ok.items():
        _set_state(conn, entity, "accepted", rows)
    for entity, rows in bad.items():
        _set_state(conn, entity, "rejected", rows)
        rejected.extend({"entity": entity, "id": rid, "reason": r} for r, rid, _v in rows)
    ok.clear()
    bad.clear()


def _localise(session, rejected: list[dict[str, Any]]) -> None:
    """The VRP names young people by record id; show workers the references they know."""
    ids = {m for item in rejected for m in _UUID.findall(item["reason"])}
    if not ids:
        return
    refs = dict(
        session.execute(
            select(Participant.id, Participant.reference).where(Participant.id.in_(ids))
        ).all()
    )
    for item in rejected:
        text = _UUID.sub(lambda m: refs.get(m.group(0), m.group(0)), item["reason"])
        if text != item["reason"] and item["entity"] != "tombstone":
            item["reason"] = text
            table = _TABLES[item["entity"]]
            session.connection().exec_driver_sql(
                f"UPDATE {table} SET rejection_reason = ? WHERE id = ?", (text, item["id"])
            )
