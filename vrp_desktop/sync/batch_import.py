"""The coordinator's import: decrypt, verify, validate and apply a provider's batch.

Two streaming passes over the file, so memory stays flat whatever its size:

1. *Verify* (changes nothing): decrypt with the VRP's identity, walk the ZIP, hash every
   member; then check the manifest is for this VRP, from a registered provider whose signing
   key is pinned, signed by that key, and that every member's SHA-256 and size match.
2. *Apply* (one transaction): decrypt again, re-check every hash against the verified
   manifest, check every record against the batch schema and the framework's rules with the
   same engine the provider used (``import_check``: a signature vouches for origin, not
   content), then hand it to the holdings (``held``): newer versions replace older ones,
   tombstones compare versions, records whose references have not arrived wait as pending,
   same-version clashes are kept as conflicts. Any arrival order of a provider's batches ends
   in the same store. The receipt is written as records are decided and appears only after
   the commit; a dry run rolls back instead.

Importing the same batch twice is refused with a clear message and changes nothing; a gap in
the provider's chain of previous batch ids is reported, not fatal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import func, select

from vrp_desktop import clock, faults
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import VrpError
from vrp_desktop.services import audit
from vrp_desktop.store.engine import bulk_cache
from vrp_desktop.store.models import Batch, BatchItem, Provider
from vrp_desktop.store.sync_models import ImportConflict
from vrp_desktop.sync import common, coordinator, held, import_check, manifest, receipts, zipstream
from vrp_desktop.sync.common import Progress, SyncError
from vrp_desktop.validation import batch_schema

_CHUNK = 2000
_ALLOWED_MEMBERS = {
    *manifest.MEMBER_ENTITY,
    manifest.ROTATION_MEMBER,
    manifest.MANIFEST,
    manifest.SIGNATURE,
}


@dataclasses.dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    file: str
    batch_id: str | None = None
    provider_code: str | None = None
    provider_id: str | None = None
    dry_run: bool = False
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    by_entity: dict[str, int] = dataclasses.field(default_factory=dict)
    rejected: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    conflicts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    receipt: str | None = None
    error: str | None = None
    #: an already imported batch offered again: nothing changed, its receipt was rewritten
    reissued: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        if self.error:
            name = Path(self.file).name
            return (
                f"NOT imported: {self.error}"
                if name in self.error
                else f"{name}: NOT imported. {self.error}"
            )
        if self.reissued:
            return (
                f"{Path(self.file).name}: batch {self.batch_id} from {self.provider_code} was "
                "already imported, so nothing changed; its receipt was written again."
            )
        c = self.counts
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{Path(self.file).name}: {verb} batch from {self.provider_code}: "
            f"{c.get('accepted', 0)} accepted, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('superseded', 0)} older versions left as they are, "
            f"{c.get('rejected', 0)} rejected ({c.get('conflicts', 0)} conflicts)."
        ) + self._waiting()

    def _waiting(self) -> str:
        c, text = self.counts, ""
        if c.get("pending"):
            text += (
                f" {c['pending']} wait for records from a batch not imported yet (they are "
                "applied when it arrives)."
            )
        if c.get("released"):
            text += f" {c['released']} records from earlier batches that were waiting went in."
        return text


class _DryRun(Exception):
    """Raised at the end of a dry run so the transaction rolls back."""


# -- decrypting ---------------------------------------------------------------------------------


def _decrypt(path: Path, identity, handler) -> zipstream.ZipStreamReader:
    reader = zipstream.ZipStreamReader(handler)
    name = path.name
    try:
        with path.open("rb") as source:
            pyrage.decrypt_io(source, reader, [identity])
        reader.close()
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    except pyrage.DecryptError as exc:
        if "No matching keys" in str(exc):
            raise SyncError(
                f"{name} was not encrypted for this VRP: it is for another partnership, or was "
                "made with an old onboarding pack. Nothing was imported."
            ) from None
        raise SyncError(
            f"{name} is not a VRP batch file, or it is damaged or cut short. Nothing was "
            "imported; ask the provider to send it again."
        ) from None
    except (zipstream.ZipStreamError, zlib.error):
        raise SyncError(
            f"{name} opened, but its content is damaged or incomplete. Nothing was imported; "
            "ask the provider to send it again."
        ) from None
    except OSError as exc:
        if exc.errno is None:  # the age payload failed its authentication: damaged or truncated
            raise SyncError(
                f"{name} is damaged or cut short (it fails its integrity check). Nothing was "
                "imported; ask the provider to send it again."
            ) from None
        raise SyncError(f"Cannot read {name}: {exc.strerror}.") from None
    return reader


class _Verify:
    """Pass one: hash every member and keep the (small) manifest and signature."""

    def __init__(self) -> None:
        self.hashes: dict[str, tuple[str, int]] = {}
        self.small: dict[str, bytearray] = {}
        self._name = ""
        self._sha = hashlib.sha256()

    def begin(self, name: str) -> None:
        if name not in _ALLOWED_MEMBERS or name in self.hashes:
            raise zipstream.ZipStreamError(f"unexpected member {name!r}")
        self._name, self._sha = name, hashlib.sha256()
        if name in (manifest.MANIFEST, manifest.SIGNATURE):
            self.small[name] = bytearray()

    def data(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        if self._name in self.small:
            self.small[self._name] += chunk
            if len(self.small[self._name]) > manifest.MAX_MANIFEST_BYTES:
                raise zipstream.ZipStreamError("manifest too large")

    def end(self, name: str, size: int) -> None:
        self.hashes[name] = (self._sha.hexdigest(), size)


def _check_manifest(path: Path, body: dict[str, Any]) -> None:
    """The manifest's values have the types the import relies on (ids name files and rows)."""
    ok = (
        batch_schema.safe_id({"id": body.get("batch_id")}) == body.get("batch_id")
        and isinstance(body.get("provider_id"), str)
        and isinstance(body.get("vrp_id"), str)
        and (
            body.get("previous_batch_id") is None
            or batch_schema.safe_id({"id": body["previous_batch_id"]}) == body["previous_batch_id"]
        )
        and (
            body.get("period") is None
            or (isinstance(body["period"], str) and len(body["period"]) <= 16)
        )
        and all(
            isinstance(m, dict)
            and isinstance(m.get("sha256"), str)
            and type(m.get("bytes")) is int
            and type(m.get("records")) is int
            and 0 <= m["records"] <= 1 << 40
            for m in body["members"].values()
        )
    )
    if not ok:
        raise SyncError(
            f"{path.name}: its manifest is signed but not one VRP Desktop can read (a value has "
            "the wrong type). Nothing was imported; ask the provider to update VRP Desktop and "
            "send the batch again."
        )


def verify_batch(ws, path: Path) -> tuple[dict[str, Any], Provider]:
    """Everything that can be checked without changing anything; raises SyncError if unsound."""
    path = Path(path)
    handler = _Verify()
    _decrypt(path, coordinator.identity(ws), handler)
    if manifest.MANIFEST not in handler.small or manifest.SIGNATURE not in handler.small:
        raise SyncError(f"{path.name} has no signed manifest. Nothing was imported.")
    body_bytes = bytes(handler.small[manifest.MANIFEST])
    body = manifest.parse_manifest(body_bytes)
    _check_manifest(path, body)
    if body["vrp_id"] != ws.setting(common.VRP_ID):
        raise SyncError(
            f"{path.name} is a batch for another VRP, not {ws.setting(common.PARTNERSHIP)}. "
            "Nothing was imported."
        )
    with ws.read() as session:
        provider = coordinator.get_provider(session, str(body["provider_id"]))
        if provider is None:
            raise SyncError(
                f"{path.name} comes from a provider that is not in this VRP's registry "
                f"({body.get('provider_code')!s}). Nothing was imported; onboard them first."
            )
        if provider.signing_public_key is None:
            raise SyncError(
                f"{provider.code}'s signing key is not pinned yet, so their batches cannot be "
                "trusted. Pin the key file they sent back (vrp provider pin), comparing "
                "fingerprints by phone. Nothing was imported."
            )
        session.expunge(provider)
    # a signature that is not even ASCII is simply unreadable (never a UnicodeDecodeError)
    signature_text = bytes(handler.small[manifest.SIGNATURE]).decode("ascii", "replace")
    signature = common.unb64(signature_text, "signature")
    if not common.verify(provider.signing_public_key, signature, body_bytes):
        raise SyncError(
            f"{path.name} is not signed with {provider.code}'s pinned key: it was changed on the "
            "way, or was not made by them. Nothing was imported."
        )
    listed = body["members"]
    present = {
        n for n in handler.hashes if n in manifest.MEMBER_ENTITY or n == manifest.ROTATION_MEMBER
    }
    if present != set(listed):
        raise SyncError(f"{path.name} does not hold the members its manifest lists.")
    for name, (digest, size) in handler.hashes.items():
        if name in listed and (
            listed[name].get("sha256") != digest or listed[name].get("bytes") != size
        ):
            raise SyncError(
                f"{path.name}: {name} does not match its SHA-256 in the signed manifest. "
                "Nothing was imported."
            )
    return body, provider


# -- applying -----------------------------------------------------------------------------------


_decode = json.JSONDecoder().decode


def _parse(raw: bytes, member: str) -> Any:
    """One line as JSON. Lines are UTF-8 text without a byte-order mark (what VRP Desktop
    writes): they go straight to the decoder, skipping ``json.loads``'s encoding detection,
    which is a measurable share of a million-record import. Anything else (another encoding,
    a BOM, a malformed line) takes ``json.loads`` exactly as before, so what is accepted and
    refused does not change."""
    if not raw.startswith(b"\xef\xbb\xbf"):
        try:
            return _decode(raw.decode())
        except (ValueError, RecursionError):
            pass  # UnicodeDecodeError is a ValueError: json.loads decides, and says why
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise SyncError(
            f"{member} holds a line that is not a record (the batch is damaged or was not made "
            "by VRP Desktop). Nothing was imported; ask the provider to send it again."
        ) from None


class _Apply:
    """Pass two: parse, check and apply each member's records in chunks.

    Every record is checked against the batch schema as it is read, then offered to the
    holdings (``held``), which check the framework rules once what the record refers to is
    known and decide whether it is applied, waits, or is older than what is held.
    """

    def __init__(self, session, provider_id, batch_id, body, receipt, progress) -> None:
        self.batch_id = batch_id
        self.body = body
        self.receipt = receipt
        self.progress = progress
        self.total = sum(m["records"] for m in body["members"].values())
        self.done = 0
        self.counts = dict.fromkeys(
            ("accepted", "unchanged", "superseded", "pending", "rejected", "conflicts"), 0
        )
        self.by_entity: dict[str, int] = {}
        self.rejected: list[dict[str, Any]] = []
        self.items: dict[tuple[str, str], tuple] = {}
        self.checker = import_check.Checker(session)
        self.holder = held.Holder(
            session.connection(),
            provider_id,
            batch_id,
            self.checker,
            self._outcome,
            self._accepted,
        )
        self._entity: str | None = None
        self._name = ""
        self._sha = hashlib.sha256()
        self._partial = b""
        self._lines: list[bytes] = []
        self._seen = 0
        self._session = session
        self._provider_id = provider_id
        self.rekeyed = 0

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return self.holder.conflicts

    # handler protocol
    def begin(self, name: str) -> None:
        self._name = name
        self._entity = manifest.MEMBER_ENTITY.get(name)
        self._sha = hashlib.sha256()
        self._partial = b""
        self._seen = 0

    def data(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        if self._entity is None and self._name != manifest.ROTATION_MEMBER:
            return
        parts = (self._partial + chunk).split(b"\n")
        self._partial = parts.pop()
        self._lines.extend(p for p in parts if p)
        if len(self._lines) >= _CHUNK:
            self._flush()

    def end(self, name: str, size: int) -> None:
        expected = self.body["members"].get(name)
        if expected is not None and expected.get("sha256") != self._sha.hexdigest():
            raise SyncError(f"{name} changed between checking and importing; nothing was imported.")
        if self._entity is None and self._name != manifest.ROTATION_MEMBER:
            return
        if self._partial:
            self._lines.append(self._partial)
            self._partial = b""
        self._flush()
        if expected is not None and self._seen != expected.get("records"):
            raise SyncError(f"{name} does not hold the number of records its manifest lists.")

    def finish(self) -> None:
        """After the last member: apply what waited for records this batch brought."""
        self.holder.release()

    # deciding
    def _flush(self) -> None:
        entity, lines = self._entity, self._lines
        self._lines = []
        if not lines:
            return
        self._seen += len(lines)
        if entity is None:  # the rotation member
            self._rekey(lines)
            return
        sound: list[tuple[dict[str, Any], str, str]] = []
        shape, batch = import_check.shape, self.batch_id
        for raw in lines:
            record = _parse(raw, self._name)
            reasons = shape(entity, record)
            if reasons:
                self._outcome(entity, record, "rejected", " ".join(reasons))
            else:
                sound.append((record, hashlib.sha256(raw).hexdigest(), batch))
        if entity == "tombstone":
            self.holder.tombstones([(r, d) for r, d, _b in sound])
        else:
            self.holder.offer(entity, sound)
        self.done += len(lines)
        self.progress("Importing records", self.done, self.total)

    def _rekey(self, lines: list[bytes]) -> None:
        """Old pseudonym -> new for this provider's held people (a new linkage key).

        Only the sending provider's own records change, so no provider can merge or split
        another's people; a malformed line refuses the whole batch (it is signed, so it is
        the provider's software that is wrong, and a half-applied rotation would split people).
        """
        pairs = []
        for raw in lines:
            item = _parse(raw, self._name)
            try:
                if not isinstance(item, dict):
                    raise batch_schema.Bad("should be an object")
                pairs.append(
                    (
                        batch_schema.pseudonym(item.get("new")),
                        self._provider_id,
                        batch_schema.pseudonym(item.get("old")),
                    )
                )
            except batch_schema.Bad as exc:
                raise SyncError(
                    f"The batch's linkage rotation holds a line that is not two pseudonyms: a "
                    f"pseudonym {exc} Nothing was imported; ask the provider to update VRP "
                    "Desktop and send the batch again."
                ) from None
        changed = (
            self._session.connection()
            .exec_driver_sql(
                "UPDATE imported_participant SET pseudonym = ? "
                "WHERE provider_id = ? AND pseudonym = ?",
                pairs,
            )
            .rowcount
        )
        self.rekeyed += max(changed, 0)

    def _accepted(self, entity: str, records: list[dict[str, Any]]) -> None:
        self.counts["accepted"] += len(records)
        self.by_entity[entity] = self.by_entity.get(entity, 0) + len(records)
        if self.receipt is not None:
            self.receipt.accepted(entity, [(r["id"], r["version"]) for r in records])

    def _outcome(self, entity: str, record: Any, outcome: str, reason=None) -> None:
        key = "rejected" if outcome == "conflict" else outcome
        self.counts[key] += 1
        if outcome == "conflict":
            self.counts["conflicts"] += 1
        if key == "accepted":
            self.by_entity[entity] = self.by_entity.get(entity, 0) + 1
            if self.receipt is not None:
                self.receipt.record(entity, record["id"], record["version"], key, None)
            return
        # never the raw value of a malformed id: it could be anything, a name included
        rid, version = batch_schema.safe_id(record), batch_schema.safe_version(record)
        if self.receipt is not None:
            self.receipt.record(entity, rid, version, key, reason)
        if key != "unchanged":
            self.items.setdefault(
                (entity, rid), (self.batch_id, entity, rid, version, outcome, reason)
            )
            if key == "rejected" and len(self.rejected) < 1000:
                self.rejected.append({"entity": entity, "id": rid, "reason": reason})


# -- the entry points ---------------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
    except FileNotFoundError:
        raise SyncError(f"There is no file {path}. Check the name and folder.") from None
    return sha.hexdigest()


def _already(session, batch_id: str | None, file_sha: str | None) -> Batch | None:
    query = select(Batch).where(Batch.direction == "in")
    if batch_id is not None:
        return session.scalar(query.where(Batch.id == batch_id))
    return session.scalar(query.where(Batch.file_sha256 == file_sha).limit(1))


def import_batch(
    ws,
    path: Path,
    *,
    dry_run: bool = False,
    receipt_folder: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one batch file (see the module docstring); raises SyncError if it is unsound."""
    coordinator.require_coordinator(ws)
    coordinator.ensure_setup(ws)
    path = Path(path)
    report = progress or common.no_progress
    result = ImportReport(file=str(path), dry_run=dry_run)
    file_sha = _file_sha256(path)
    with ws.read() as session:
        seen = _already(session, None, file_sha)
    if seen is not None and not dry_run:
        return _again(ws, path, seen.id, receipt_folder, result)
    if seen is not None:
        raise SyncError(
            f"{path.name} was already imported on {clock.show(seen.created_at, '%d %B %Y')} (batch "
            f"{seen.id}); importing it again would change nothing, so nothing was done."
        )
    report("Checking the batch", 0, 1)
    keys = coordinator.material(ws)
    body, provider = verify_batch(ws, path)
    batch_id = str(body["batch_id"])
    result.batch_id, result.provider_code, result.provider_id = batch_id, provider.code, provider.id
    with ws.read() as session:
        seen = _already(session, batch_id, None)
        if seen is not None and not dry_run:
            session.close()
            return _again(ws, path, batch_id, receipt_folder, result)
        if seen is not None:
            raise SyncError(
                f"{path.name} repeats batch {batch_id} from {provider.code}, already imported on "
                f"{clock.show(seen.created_at, '%d %B %Y')}. Nothing was changed."
            )
        previous = body.get("previous_batch_id")
        if previous and session.get(Batch, previous) is None:
            result.notes.append(
                f"Gap: the batch {provider.code} sent before this one ({previous}) has not been "
                "imported. Ask them for it; this batch was imported anyway."
            )
    report("Checking the batch", 1, 1)
    folder = Path(receipt_folder or ws.setting(common.RECEIPT_FOLDER) or path.parent)
    receipt_path = folder / receipts.receipt_file_name(provider.code, batch_id)
    try:
        if dry_run:
            _apply_all(ws, keys, path, body, provider, result, None, report, file_sha, True)
        else:
            with atomic_open(receipt_path, mode=0o644) as handle:
                header = {
                    "batch_id": batch_id,
                    "vrp_id": keys[common.VRP_ID],
                    "provider_id": provider.id,
                    "provider_code": provider.code,
                    "created_at": common.utc_now_iso(),
                }
                writer = receipts.ReceiptWriter(handle, keys["signing_private"], header)
                _apply_all(ws, keys, path, body, provider, result, writer, report, file_sha)
                faults.point("import.committed")
            result.receipt = str(receipt_path)
    except _DryRun:
        pass
    return result


def _again(ws, path: Path, batch_id: str, receipt_folder, result: ImportReport) -> ImportReport:
    """An imported batch offered again: write its receipt again (a crash may have lost it)."""
    from vrp_desktop.sync import reissue  # it reads batches through this module

    folder = Path(receipt_folder or ws.setting(common.RECEIPT_FOLDER) or path.parent)
    info = reissue.reissue(ws, batch_id, folder, batch_file=path)
    result.batch_id, result.provider_code = info["batch_id"], info["provider_code"]
    result.counts = dict(info["counts"])
    result.receipt = info["receipt"]
    result.reissued = True
    result.notes.append(
        f"Batch {batch_id} was already imported on {info['imported_at']:%d %B %Y}; nothing "
        "changed, and its receipt was written again."
    )
    return result


def _apply_all(ws, keys, path, body, provider, result, writer, report, file_sha, dry_run=False):
    with ws.unit() as session, bulk_cache(session.connection()):
        handler = _Apply(session, provider.id, result.batch_id, body, writer, report)
        _decrypt(path, keys["identity"], handler)
        handler.finish()
        handler.counts["released"] = handler.holder.released
        if handler.rekeyed:
            result.notes.append(
                f"{handler.rekeyed} people from {provider.code} were re-keyed to the "
                "partnership's new linkage key, so they are still counted once."
            )
        result.counts = dict(handler.counts)
        result.by_entity = dict(handler.by_entity)
        result.rejected = handler.rejected
        result.conflicts = handler.conflicts
        session.add(
            Batch(
                id=result.batch_id,
                provider_id=provider.id,
                direction="in",
                period=body.get("period"),
                previous_batch_id=body.get("previous_batch_id"),
                status="imported",
                record_count=handler.done,
                file_sha256=file_sha,
                manifest=body,
                file_name=Path(path).name,
                report={"counts": result.counts, "notes": result.notes},
            )
        )
        session.flush()
        if handler.items:
            session.connection().exec_driver_sql(
                "INSERT INTO batch_item (batch_id, entity, record_id, version, outcome, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                list(handler.items.values()),
            )
        if writer is not None:
            writer.finish(result.counts)
        audit.append(
            session,
            ws.user.username,
            "batch.import",
            "batch",
            result.batch_id,
            after={"provider": provider.code, **result.counts, "notes": len(result.notes)},
        )
        if dry_run:
            raise _DryRun


def import_files(
    ws,
    paths: list[Path],
    *,
    dry_run: bool = False,
    receipt_folder: Path | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import several files; one unsound file is reported and never stops the others."""
    results = []
    for path in paths:
        try:
            results.append(
                import_batch(
                    ws,
                    Path(path),
                    dry_run=dry_run,
                    receipt_folder=receipt_folder,
                    progress=progress,
                )
            )
        except VrpError as exc:
            results.append(ImportReport(file=str(path), dry_run=dry_run, error=str(exc)))
    return results


def inbox_folder(ws) -> Path | None:
    value = ws.setting(common.INBOX_FOLDER)
    return Path(value) if value else None


def set_inbox_folder(ws, folder: Path) -> Path:
    coordinator.require_coordinator(ws)
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise SyncError(f"There is no folder {folder}. Connect it, or choose another folder.")
    with ws.unit() as session:
        ws.set_setting(session, common.INBOX_FOLDER, str(folder.resolve()))
        audit.append(session, ws.user.username, "sync.inbox", "workspace", None)
    return folder


def scan_inbox(ws, folder: Path | None = None) -> list[dict[str, Any]]:
    """Batch files in the inbox folder, each marked new or already imported (by file hash)."""
    coordinator.require_coordinator(ws)
    target = Path(folder) if folder else inbox_folder(ws)
    if target is None:
        raise SyncError("No inbox folder is set. Choose one on the Inbox page, or give --folder.")
    if not target.is_dir():
        raise SyncError(f"The inbox folder {target} is not there. Connect it and try again.")
    files = sorted(target.glob(f"*{common.BATCH_SUFFIX}"))
    with ws.read() as session:
        known = set(session.scalars(select(Batch.file_sha256).where(Batch.direction == "in")).all())
    return [{"file": str(f), "name": f.name, "new": _file_sha256(f) not in known} for f in files]


def import_inbox(
    ws, folder: Path | None = None, *, dry_run: bool = False, progress: Progress | None = None
) -> list[ImportReport]:
    new = [Path(item["file"]) for item in scan_inbox(ws, folder) if item["new"]]
    return import_files(ws, new, dry_run=dry_run, progress=progress)


# -- what the Inbox page shows ------------------------------------------------------------------


def list_batches(ws, *, limit: int = 500) -> list[dict[str, Any]]:
    coordinator.require_coordinator(ws)
    with ws.read() as session:
        codes_by_id = dict(session.execute(select(Provider.id, Provider.code)).all())
        rows = session.scalars(
            select(Batch)
            .where(Batch.direction == "in")
            .order_by(Batch.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": b.id,
                "provider_id": b.provider_id,
                "provider_code": codes_by_id.get(b.provider_id, "?"),
                "period": b.period,
                "imported_at": b.created_at,
                "records": b.record_count,
                "counts": (b.report or {}).get("counts", {}),
                "notes": (b.report or {}).get("notes", []),
                "file_name": b.file_name,
            }
            for b in rows
        ]


def batch_errors(ws, batch_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
    with ws.read() as session:
        rows = session.scalars(
            select(BatchItem).where(BatchItem.batch_id == batch_id).limit(limit)
        ).all()
        return [
            {
                "entity": i.entity,
                "id": i.record_id,
                "version": i.version,
                "outcome": i.outcome,
                "reason": i.reason,
            }
            for i in rows
        ]


def list_conflicts(ws, *, limit: int = 1000) -> list[dict[str, Any]]:
    coordinator.require_coordinator(ws)
    with ws.read() as session:
        codes_by_id = dict(session.execute(select(Provider.id, Provider.code)).all())
        rows = session.scalars(
            select(ImportConflict).order_by(ImportConflict.id.desc()).limit(limit)
        ).all()
        return [
            {
                "provider_code": codes_by_id.get(c.provider_id, "?"),
                "batch_id": c.batch_id,
                "entity": c.entity,
                "record_id": c.record_id,
                "held_version": c.held_version,
                "offered_version": c.offered_version,
                "kind": c.kind,
                "detail": c.detail,
                "at": c.created_at,
            }
            for c in rows
        ]


def held_counts(ws) -> dict[str, int]:
    from vrp_desktop.store.sync_models import IMPORTED

    with ws.read() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in IMPORTED.items()
        }


def list_pending(ws, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Records that wait for one they refer to (shown on the Inbox page with what they need)."""
    from vrp_desktop.store.sync_models import ImportedPending

    coordinator.require_coordinator(ws)
    with ws.read() as session:
        codes_by_id = dict(session.execute(select(Provider.id, Provider.code)).all())
        rows = session.scalars(
            select(ImportedPending)
            .order_by(ImportedPending.provider_id, ImportedPending.entity)
            .limit(limit)
        ).all()
        return [
            {
                "provider_code": codes_by_id.get(p.provider_id, "?"),
                "entity": p.entity,
                "record_id": p.record_id,
                "version": p.version,
                "batch_id": p.batch_id,
                "waiting_for": p.waiting_for,
                "since": p.created_at,
            }
            for p in rows
        ]
