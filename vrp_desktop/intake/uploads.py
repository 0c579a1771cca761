"""Where uploads wait on the coordinator's disk while they arrive, and what they became.

An upload is named by the SHA-256 of the whole batch file, which the provider knows before it
sends a byte. That name makes everything idempotent and resumable without a session: the part
file's size is how far an interrupted upload got, and a finished upload's receipt is kept under
the same name, so a retried upload (after a lost answer, a crash, a dropped connection) gets the
very same receipt bytes back. Everything lives in ``<workspace>/intake/`` with owner-only
permissions; batch files are age-encrypted, so nothing here is readable without the VRP's key.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from vrp_desktop.atomic import atomic_write_bytes

_NAME = re.compile(r"[0-9a-f]{64}")
#: unfinished uploads the intake holds at once, and for how long one left alone is kept: a
#: client that starts uploads and never finishes them must not fill the coordinator's disk
MAX_PARTS = 64
HELD_FACTOR = 4
STALE_SECONDS = 24 * 3600


class UploadError(Exception):
    """An upload that cannot go on; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def check_name(upload_id: str) -> str:
    if not _NAME.fullmatch(upload_id or ""):
        raise UploadError(
            400, "An upload is named by the SHA-256 of the batch file: 64 lowercase hex digits."
        )
    return upload_id


class UploadStore:
    """Part files, complete batch files and the receipts they earned, by upload name."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes = Path(root), max_bytes
        for sub in ("parts", "batches", "done", "receipts"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.root / sub, 0o700)
        os.chmod(self.root, 0o700)

    def part(self, upload_id: str) -> Path:
        return self.root / "parts" / f"{upload_id}.part"

    def batch(self, upload_id: str) -> Path:
        return self.root / "batches" / f"{upload_id}.vrpbatch"

    @property
    def receipts(self) -> Path:
        return self.root / "receipts"

    def _done(self, upload_id: str) -> Path:
        return self.root / "done" / f"{upload_id}.json"

    def offset(self, upload_id: str) -> int:
        """How many bytes of this upload have arrived (all of them once it is complete)."""
        for path in (self.batch(upload_id), self.part(upload_id)):
            if path.exists():
                return path.stat().st_size
        return 0

    def open_for_append(self, upload_id: str, offset: int):
        """The part file opened at ``offset``, which must be where the last upload stopped."""
        if self.batch(upload_id).exists() or self.finished(upload_id):
            raise UploadError(
                409, "This upload is already complete.", offset=self.offset(upload_id)
            )
        have = self.offset(upload_id)
        if offset != have:
            raise UploadError(
                409, f"The upload is at byte {have}, not {offset}: resume from there.", offset=have
            )
        self.check_room(new=not self.part(upload_id).exists())
        fd = os.open(self.part(upload_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "ab")

    def check_room(self, new: bool) -> None:
        """Refuse more bytes while unfinished uploads already hold their share of the disk
        (``HELD_FACTOR`` times the largest batch, or ``MAX_PARTS`` files); part files left
        alone for ``STALE_SECONDS`` are dropped first, so abandoned uploads do not pile up."""
        now, held, count = time.time(), 0, 0
        for path in (self.root / "parts").iterdir():
            try:
                stat = path.stat()
            except OSError:
                continue
            if now - stat.st_mtime > STALE_SECONDS:
                path.unlink(missing_ok=True)
                continue
            held, count = held + stat.st_size, count + 1
        if held >= HELD_FACTOR * self.max_bytes or (new and count >= MAX_PARTS):
            raise UploadError(
                507,
                "The intake is holding too many unfinished uploads to take more now. Try again "
                "later, or copy the batch to the VRP through the outbox folder.",
            )

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise UploadError(
                413,
                f"The batch is larger than this intake accepts ({self.max_bytes} bytes). Copy "
                "it to the VRP through the outbox folder instead.",
            )

    def seal(self, upload_id: str, sha256_of) -> Path:
        """Check the complete part file against its name and move it to ``batches/``."""
        part, batch = self.part(upload_id), self.batch(upload_id)
        if batch.exists():
            return batch
        if not part.exists():
            raise UploadError(404, "Nothing of this upload has arrived. Upload the batch first.")
        if sha256_of(part) != upload_id:
            part.unlink()
            raise UploadError(
                422,
                "The uploaded bytes do not match their SHA-256: the file changed on the way. "
                "It was discarded; send it again.",
            )
        os.replace(part, batch)
        return batch

    def finished(self, upload_id: str) -> dict | None:
        """What a finished upload earned (its receipt's file and the batch id), if it did."""
        try:
            info = json.loads(self._done(upload_id).read_text())
        except (OSError, ValueError):
            return None
        receipt = Path(info.get("receipt", ""))
        return info if receipt.is_file() else None

    def finish(self, upload_id: str, info: dict) -> None:
        atomic_write_bytes(self._done(upload_id), json.dumps(info).encode(), mode=0o600)

    def discard(self, upload_id: str) -> None:
        """Forget a batch the importer refused, so a corrected one can be sent under any name."""
        self.part(upload_id).unlink(missing_ok=True)
        self.batch(upload_id).unlink(missing_ok=True)
