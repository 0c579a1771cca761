"""The outbox: a folder (a USB stick, a shared drive) batch files are written to atomically.

A batch file appears under its final name only once it is complete and on disk (temporary
file, fsync, rename), so whoever copies the folder never picks up half a batch.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vrp_desktop.services import audit
from vrp_desktop.store.models import Batch
from vrp_desktop.sync import common
from vrp_desktop.sync.common import SyncError


def outbox_folder(ws) -> Path | None:
    value = ws.setting(common.OUTBOX_FOLDER)
    return Path(value) if value else None


def set_outbox_folder(ws, folder: Path) -> Path:
    ws.require("send_batch")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise SyncError(
            f"There is no folder {folder}. Plug in the stick or connect the shared drive, or "
            "choose another folder."
        )
    with ws.unit() as session:
        ws.set_setting(session, common.OUTBOX_FOLDER, str(folder.resolve()))
        audit.append(session, ws.user.username, "sync.outbox", "workspace", None)
    return folder


def resolve(ws, folder: Path | None) -> Path:
    """The folder to write to: the one given, else the configured one; it must exist."""
    target = Path(folder).expanduser() if folder else outbox_folder(ws)
    if target is None:
        raise SyncError(
            "No outbox folder is set. Choose one on the Sync page, or give --outbox FOLDER."
        )
    if not target.is_dir():
        raise SyncError(
            f"The outbox folder {target} is not there (is the stick plugged in?). Nothing was "
            "sent; connect it or choose another folder."
        )
    return target


def batch_file_name(provider_code: str, batch_id: str, on: dt.date | None = None) -> str:
    day = (on or dt.date.today()).strftime("%Y%m%d")
    return f"batch-{provider_code}-{day}-{batch_id}{common.BATCH_SUFFIX}"


def history(ws, *, limit: int = 200) -> list[dict[str, Any]]:
    """Batches this workspace sent, newest first, with what the VRP's receipt said."""
    with ws.read() as session:
        rows = session.scalars(
            select(Batch)
            .where(Batch.direction == "out")
            .order_by(Batch.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": b.id,
                "created_at": b.created_at,
                "period": b.period,
                "status": b.status,
                "records": b.record_count,
                "file_name": b.file_name,
                "accepted": (b.report or {}).get("accepted"),
                "rejected": (b.report or {}).get("rejected"),
                "counts": (b.report or {}).get("counts", {}),
            }
            for b in rows
        ]
