"""Writing a batch's receipt again, from what the coordinator recorded when it imported it.

The receipt appears only after the import commits (so it never vouches for an import that rolled
back); a crash between the commit and the receipt's rename, a lost USB stick or a deleted file
left an imported batch with no receipt and nothing could make one. ``reissue`` re-reads the
batch file (verified again, and matched to the signed manifest stored at import) for the order
of its records, takes every outcome from the store (rejections, conflicts and superseded
records are kept per record; everything else was accepted) and the counts from the import's
report, and signs a fresh receipt. Importing it on the provider's side has exactly the effect
the lost one would have had. Re-importing an already imported batch does this too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vrp_desktop.atomic import atomic_open
from vrp_desktop.store.models import Batch, BatchItem, Provider
from vrp_desktop.sync import common, coordinator, manifest, receipts
from vrp_desktop.sync.common import SyncError


class _Lines:
    """Stream each member's records into the receipt, in the order the import saw them."""

    def __init__(self, writer: receipts.ReceiptWriter, items: dict[tuple[str, str], Any]) -> None:
        self.writer, self.items = writer, items
        self._entity: str | None = None
        self._partial = b""

    def begin(self, name: str) -> None:
        self._entity = manifest.MEMBER_ENTITY.get(name)
        self._partial = b""

    def data(self, chunk: bytes) -> None:
        if self._entity is None:
            return
        parts = (self._partial + chunk).split(b"\n")
        self._partial = parts.pop()
        for raw in parts:
            self._line(raw)

    def end(self, name: str, size: int) -> None:
        if self._entity is not None and self._partial:
            self._line(self._partial)
        self._partial = b""

    def _line(self, raw: bytes) -> None:
        if not raw:
            return
        try:
            record = json.loads(raw)
        except ValueError:
            raise SyncError("The batch file holds a line that is not a record.") from None
        if not isinstance(record, dict):
            raise SyncError("The batch file holds a line that is not a record.")
        rid, version = str(record.get("id")), record.get("version") or 0
        outcome, reason = self.items.get((self._entity, rid), ("accepted", None))
        if outcome == "conflict":
            outcome = "rejected"
        self.writer.record(self._entity, rid, version, outcome, reason)


def _locate(ws, row: Batch, hints: list[Path]) -> Path:
    from vrp_desktop.intake.server import intake_folder  # where ``vrp serve`` keeps uploads

    folders = [
        *hints,
        *(
            Path(v)
            for v in (ws.setting(common.INBOX_FOLDER), ws.setting(common.RECEIPT_FOLDER))
            if v
        ),
        intake_folder(ws) / "batches",  # a batch that came online
    ]
    for folder in folders:
        candidate = folder / (row.file_name or "")
        if row.file_name and candidate.is_file():
            return candidate
    raise SyncError(
        f"The file of batch {row.id} ({row.file_name}) is not in the inbox folder. Give it "
        "with --batch FILE (the receipt is made from it and from what the VRP recorded)."
    )


def reissue(
    ws, batch_id: str, out_folder: Path, *, batch_file: Path | None = None
) -> dict[str, Any]:
    """Write the receipt of an imported batch again into ``out_folder``; returns its path."""
    from vrp_desktop.sync import batch_import  # it imports us for re-imports

    coordinator.require_coordinator(ws)
    out_folder = Path(out_folder)
    if not out_folder.is_dir():
        raise SyncError(
            f"There is no folder {out_folder}. Create it or choose another, then try again."
        )
    with ws.read() as session:
        row = session.get(Batch, str(batch_id))
        if row is None or row.direction != "in":
            raise SyncError(
                f"No batch {batch_id} was imported into this workspace, so it has no receipt. "
                "Import the batch file instead."
            )
        code = session.scalar(select(Provider.code).where(Provider.id == row.provider_id))
        items = {
            (i.entity, i.record_id): (i.outcome, i.reason)
            for i in session.scalars(select(BatchItem).where(BatchItem.batch_id == row.id))
        }
        session.expunge(row)
    path = Path(batch_file) if batch_file else _locate(ws, row, [out_folder])
    body, _provider = batch_import.verify_batch(ws, path)
    if body != row.manifest:
        raise SyncError(
            f"{path.name} is not the batch {row.id} that was imported (its signed manifest "
            "differs). Give the file that was imported with --batch FILE."
        )
    keys = coordinator.material(ws)
    target = out_folder / receipts.receipt_file_name(code or "?", row.id)
    header = {
        "batch_id": row.id,
        "vrp_id": keys[common.VRP_ID],
        "provider_id": row.provider_id,
        "provider_code": code,
        "created_at": common.utc_now_iso(),
    }
    with atomic_open(target, mode=0o644) as handle:
        writer = receipts.ReceiptWriter(handle, keys["signing_private"], header)
        batch_import._decrypt(path, keys["identity"], _Lines(writer, items))
        writer.finish(dict((row.report or {}).get("counts") or {}))
    return {
        "batch_id": row.id,
        "provider_code": code,
        "receipt": str(target),
        "counts": (row.report or {}).get("counts") or {},
        "imported_at": row.created_at,
    }
