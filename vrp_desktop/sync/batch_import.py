"""The coordinator's import: decrypt, verify, validate and apply a provider's batch.

Two streaming passes over the file, so memory stays flat whatever its size:

1. *Verify* (changes nothing): decrypt with the VRP's identity, walk the ZIP, hash every
   member; then check the manifest is for this VRP, from a registered provider whose signing
   key is pinned, signed by that key, and that every member's SHA-256 and size match.
2. *Apply* (one transaction): decrypt again, re-check every hash against the verified
   manifest, validate each record with the same engine the provider used (fields that never
   travel are not required here), then insert new records, replace older versions, keep
   same-version clashes as conflicts and leave older versions be. The receipt is written as
   records are decided and appears only after the commit; a dry run rolls back instead.

Importing the same batch twice is refused with a clear message and changes nothing; a gap in
the provider's chain of previous batch ids is reported, not fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import func, select

from vrp_desktop import clock
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import FrameworkError, VrpError
from vrp_desktop.frameworks.models import Framework as FrameworkDefinition
from vrp_desktop.services import audit
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.store.models import Batch, BatchItem, Provider
from vrp_desktop.store.sync_models import ImportConflict
from vrp_desktop.sync import common, coordinator, manifest, receipts, zipstream
from vrp_desktop.sync.common import Progress, SyncError
from vrp_desktop.validation.engine import (
    AttendeeContext,
    validate_enrolment,
    validate_participant,
    validate_response,
    validate_session,
)

_CHUNK = 2000
_LOCAL_ONLY = frozenset(manifest.FORBIDDEN)
_ALLOWED_MEMBERS = {*manifest.MEMBER_ENTITY, manifest.MANIFEST, manifest.SIGNATURE}
_COLUMNS = {
    "intervention": (
        "framework_id", "framework_version", "name", "tier", "setting", "area", "active",
    ),
    "participant": (
        "pseudonym", "age_band", "gender", "ethnicity", "postcode_district", "consent_status",
        "consent_date",
    ),
    "enrolment": (
        "participant_id", "intervention_id", "referral_source", "referral_date", "start_date",
        "end_date", "exit_reason",
    ),
    "session": (
        "intervention_id", "starts_at", "duration_minutes", "session_type", "mode",
        "location_type", "activities", "staff_count", "status",
    ),
    "outcome_response": (
        "participant_id", "enrolment_id", "measure_id", "timepoint", "completed_on", "answers",
        "scores", "bands", "scoring_version",
    ),
}  # fmt: skip
_TABLE = {
    "intervention": "imported_intervention",
    "participant": "imported_participant",
    "enrolment": "imported_enrolment",
    "session": "imported_session",
    "outcome_response": "imported_response",
}
_JSON_COLUMNS = {"activities", "answers", "scores", "bands"}


def insert_sql(entity: str) -> str:
    columns = ("id", "provider_id", "version", "batch_id", "content_sha256", *_COLUMNS[entity])
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {_TABLE[entity]} ({', '.join(columns)}) VALUES ({marks})"


ATTENDANCE_SQL = (
    "INSERT OR REPLACE INTO imported_attendance (id, provider_id, version, batch_id, "
    "content_sha256, session_id, participant_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


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
        c = self.counts
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{Path(self.file).name}: {verb} batch from {self.provider_code}: "
            f"{c.get('accepted', 0)} accepted, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('superseded', 0)} older versions left as they are, "
            f"{c.get('rejected', 0)} rejected ({c.get('conflicts', 0)} conflicts)."
        )


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
    except zipstream.ZipStreamError:
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


def verify_batch(ws, path: Path) -> tuple[dict[str, Any], Provider]:
    """Everything that can be checked without changing anything; raises SyncError if unsound."""
    path = Path(path)
    handler = _Verify()
    _decrypt(path, coordinator.identity(ws), handler)
    if manifest.MANIFEST not in handler.small or manifest.SIGNATURE not in handler.small:
        raise SyncError(f"{path.name} has no signed manifest. Nothing was imported.")
    body_bytes = bytes(handler.small[manifest.MANIFEST])
    body = manifest.parse_manifest(body_bytes)
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
    signature = common.unb64(bytes(handler.small[manifest.SIGNATURE]).decode(), "signature")
    if not common.verify(provider.signing_public_key, signature, body_bytes):
        raise SyncError(
            f"{path.name} is not signed with {provider.code}'s pinned key: it was changed on the "
            "way, or was not made by them. Nothing was imported."
        )
    listed = body["members"]
    present = {n for n in handler.hashes if n in manifest.MEMBER_ENTITY}
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


# -- validation context -------------------------------------------------------------------------


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _db_datetime(value: Any, *, wall_time: bool = False) -> Any:
    """A travelled datetime as stored: a session start as local wall-clock time, any other
    timestamp as UTC (see clock.py); naive values (older batches) are kept as they came."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = (clock.received_start(value) if wall_time else clock.as_utc(value)).replace(
                tzinfo=None
            )
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class _Context:
    """What the engine needs to know beyond one record: frameworks, parents, enrolments."""

    def __init__(self, session, provider_id: str) -> None:
        self.session = session
        self.conn = session.connection()
        self.provider_id = provider_id
        self.today = dt.date.today()
        self.now = clock.utc_now()  # session starts carry their offset: compared in UTC
        self._frameworks: dict[tuple[str, int], FrameworkDefinition | None] = {}
        self.interventions: dict[str, tuple[str, int]] = {}
        self.people: set[str] = set()
        self.enrolments: dict[str, dict[str, Any]] = {}
        self.spans: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
        self._held_people: dict[str, bool] = {}
        self._held_loaded = False

    def framework(self, fid: str, version: int) -> FrameworkDefinition | None:
        key = (fid, version)
        if key not in self._frameworks:
            try:
                self._frameworks[key] = fw_service.get(self.session, fid, version)
            except FrameworkError:
                self._frameworks[key] = None
        return self._frameworks[key]

    def intervention(self, iid: str) -> tuple[str, int] | None:
        if iid not in self.interventions:
            row = self.conn.exec_driver_sql(
                "SELECT framework_id, framework_version FROM imported_intervention "
                "WHERE id = ? AND provider_id = ?",
                (iid, self.provider_id),
            ).first()
            if row is None:
                return None
            self.interventions[iid] = (row[0], row[1])
        return self.interventions[iid]

    def has_person(self, pid: str) -> bool:
        if pid in self.people:
            return True
        if pid not in self._held_people:
            self._held_people[pid] = (
                self.conn.exec_driver_sql(
                    "SELECT 1 FROM imported_participant WHERE id = ? AND provider_id = ?",
                    (pid, self.provider_id),
                ).first()
                is not None
            )
        return self._held_people[pid]

    def enrolment(self, eid: str) -> dict[str, Any] | None:
        if eid not in self.enrolments:
            row = self.conn.exec_driver_sql(
                "SELECT participant_id, intervention_id, start_date, end_date, referral_date "
                "FROM imported_enrolment WHERE id = ? AND provider_id = ?",
                (eid, self.provider_id),
            ).first()
            if row is None:
                return None
            self.enrolments[eid] = {
                "id": eid,
                "participant_id": row[0],
                "intervention_id": row[1],
                "start_date": _date(row[2]),
                "end_date": _date(row[3]),
                "referral_date": _date(row[4]),
            }
        return self.enrolments[eid]

    def add_span(self, record: dict[str, Any]) -> None:
        key = (record["participant_id"], record["intervention_id"])
        self.spans.setdefault(key, []).append((record.get("start_date"), record.get("end_date")))

    def enrolled(self, pid: str, iid: str, day: dt.date) -> bool:
        if not self._held_loaded:
            # every enrolment the VRP already holds for this provider, in one query: asking
            # per attendee cost a query for each person seen
            self._held_loaded = True
            for held_pid, start, end, held_iid in self.conn.exec_driver_sql(
                "SELECT participant_id, start_date, end_date, intervention_id "
                "FROM imported_enrolment WHERE provider_id = ?",
                (self.provider_id,),
            ):
                self.spans.setdefault((held_pid, held_iid), []).append((_date(start), _date(end)))
        return any(
            isinstance(start, dt.date) and start <= day and (end is None or end >= day)
            for start, end in self.spans.get((pid, iid), ())
        )


def _errors(findings) -> list[str]:
    return [f"{f.field}: {f.message}" for f in findings if f.severity == "error"]


def _check(ctx: _Context, entity: str, r: dict[str, Any]) -> list[str]:
    """The reasons to reject ``r`` (empty if it is sound); dates are parsed in place."""
    if not isinstance(r.get("id"), str) or not isinstance(r.get("version"), int):
        return ["The record has no id or version."]
    for key in list(r):
        if key in manifest.DATE_FIELDS:
            r[key] = _date(r[key])
        elif key in manifest.DATETIME_FIELDS:
            r[key] = _datetime(r[key])
    if entity == "intervention":
        if ctx.framework(r.get("framework_id"), r.get("framework_version")) is None:
            return [
                f"framework: {r.get('framework_id')} version {r.get('framework_version')} is not "
                "one the VRP has published. Ask the VRP for its framework pack."
            ]
        return [] if r.get("name") else ["name: Enter the intervention's name."]
    if entity == "participant":
        found = validate_participant(r, today=ctx.today)
        return _errors(f for f in found if f.field not in _LOCAL_ONLY)
    if entity == "enrolment":
        problems = _parents(ctx, r)
        if problems:
            return problems
        fw = ctx.framework(*ctx.intervention(r["intervention_id"]))
        return _errors(validate_enrolment(r, participant=None, framework=fw, today=ctx.today))
    if entity == "session":
        iv = ctx.intervention(r.get("intervention_id"))
        fw = ctx.framework(*iv) if iv else None
        if fw is None:
            return ["intervention_id: the VRP does not hold this session's intervention."]
        register = r.get("register") or []
        day = r["starts_at"].date() if isinstance(r.get("starts_at"), dt.datetime) else None
        attendees = []
        for a in register:
            pid = a.get("participant_id")
            if not ctx.has_person(pid):
                return [f"attendees: {pid} is not a young person the VRP holds."]
            attendees.append(
                AttendeeContext(
                    participant_id=pid,
                    reference=pid,
                    status=a.get("status"),
                    enrolled=day is not None and ctx.enrolled(pid, r["intervention_id"], day),
                )
            )
        return _errors(validate_session(r, framework=fw, attendees=attendees, now=ctx.now))
    if entity == "outcome_response":
        if not ctx.has_person(r.get("participant_id")):
            return ["participant_id: the VRP does not hold this young person's record."]
        enrolment = ctx.enrolment(r["enrolment_id"]) if r.get("enrolment_id") else None
        if enrolment is None:
            return ["enrolment_id: the VRP does not hold this questionnaire's enrolment."]
        fw = ctx.framework(*ctx.intervention(enrolment["intervention_id"]))
        try:
            measure = fw_service.measure(r.get("measure_id"))
        except (FrameworkError, KeyError):
            return [f"measure_id: {r.get('measure_id')} is not a questionnaire the VRP knows."]
        return _errors(
            validate_response(
                r, measure=measure, framework=fw, enrolment=enrolment, today=ctx.today
            )
        )
    if entity == "tombstone":
        if r.get("entity") not in _TABLE and r.get("entity") != "attendance":
            return ["entity: unknown kind of record."]
        return []
    return ["Unknown kind of record."]


def _parents(ctx: _Context, r: dict[str, Any]) -> list[str]:
    if not ctx.has_person(r.get("participant_id")):
        return ["participant_id: the VRP does not hold this young person's record."]
    iv = ctx.intervention(r.get("intervention_id"))
    if iv is None or ctx.framework(*iv) is None:
        return ["intervention_id: the VRP does not hold this intervention."]
    return []


# -- applying -----------------------------------------------------------------------------------


class _Apply:
    """Pass two: parse, validate and apply each member's records in chunks."""

    def __init__(self, ctx, batch_id, body, receipt, progress, dry_run) -> None:
        self.ctx = ctx
        self.conn = ctx.conn
        self.batch_id = batch_id
        self.body = body
        self.receipt = receipt
        self.progress = progress
        self.dry_run = dry_run
        self.total = sum(int(m.get("records", 0)) for m in body["members"].values())
        self.done = 0
        self.counts = dict.fromkeys(
            ("accepted", "unchanged", "superseded", "rejected", "conflicts"), 0
        )
        self.by_entity: dict[str, int] = {}
        self.rejected: list[dict[str, Any]] = []
        self.conflicts: list[dict[str, Any]] = []
        self.items: list[tuple] = []
        self.has_tombstones = (
            self.conn.exec_driver_sql(
                "SELECT 1 FROM imported_tombstone WHERE provider_id = ? LIMIT 1",
                (ctx.provider_id,),
            ).first()
            is not None
        )
        self._entity: str | None = None
        self._name = ""
        self._sha = hashlib.sha256()
        self._partial = b""
        self._lines: list[bytes] = []
        self._seen = 0

    # handler protocol
    def begin(self, name: str) -> None:
        self._name = name
        self._entity = manifest.MEMBER_ENTITY.get(name)
        self._sha = hashlib.sha256()
        self._partial = b""
        self._seen = 0

    def data(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        if self._entity is None:
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
        if self._entity is None:
            return
        if self._partial:
            self._lines.append(self._partial)
            self._partial = b""
        self._flush()
        if expected is not None and self._seen != expected.get("records"):
            raise SyncError(f"{name} does not hold the number of records its manifest lists.")

    # deciding
    def _flush(self) -> None:
        entity, lines = self._entity, self._lines
        self._lines = []
        if not lines:
            return
        self._seen += len(lines)
        sound: list[tuple[dict[str, Any], str]] = []
        for raw in lines:
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError
            except ValueError:
                raise SyncError(f"{self._name} holds a line that is not a record.") from None
            digest = hashlib.sha256(raw).hexdigest()
            reasons = _check(self.ctx, entity, record)
            if reasons:
                self._outcome(entity, record, "rejected", " ".join(reasons))
            else:
                sound.append((record, digest))
        if entity == "tombstone":
            self._tombstones(sound)
        else:
            self._apply(entity, sound)
        self.done += len(lines)
        self.progress("Importing records", self.done, self.total)

    def _outcome(self, entity: str, record: dict[str, Any], outcome: str, reason=None) -> None:
        key = "rejected" if outcome == "conflict" else outcome
        self.counts[key] += 1
        if outcome == "conflict":
            self.counts["conflicts"] += 1
        if key == "accepted":
            self.by_entity[entity] = self.by_entity.get(entity, 0) + 1
        rid, version = str(record.get("id")), record.get("version") or 0
        if self.receipt is not None:
            self.receipt.record(entity, rid, version, key, reason)
        if key in ("rejected", "superseded"):
            self.items.append((self.batch_id, entity, rid, version, outcome, reason))
            if key == "rejected" and len(self.rejected) < 1000:
                self.rejected.append({"entity": entity, "id": rid, "reason": reason})

    def _held(self, table: str, ids: list[str]) -> dict[str, tuple]:
        marks = ", ".join("?" for _ in ids)
        return {
            row[0]: row[1:]
            for row in self.conn.exec_driver_sql(
                "SELECT id, provider_id, version, content_sha256 FROM "
                f"{table} WHERE id IN ({marks})",
                tuple(ids),
            )
        }

    def _stones(self, entity: str, ids: list[str]) -> dict[str, int]:
        if not self.has_tombstones:
            return {}
        marks = ", ".join("?" for _ in ids)
        return dict(
            self.conn.exec_driver_sql(
                "SELECT record_id, version FROM imported_tombstone WHERE entity = ? AND "
                f"record_id IN ({marks})",
                (entity, *ids),
            ).all()
        )

    def _apply(self, entity: str, sound: list[tuple[dict[str, Any], str]]) -> None:
        if not sound:
            return
        table = _TABLE[entity]
        ids = [r["id"] for r, _d in sound]
        held = self._held(table, ids)
        stones = self._stones(entity, ids)
        inserts, replaced = [], []
        provider, batch = self.ctx.provider_id, self.batch_id
        for record, digest in sound:
            rid, version = record["id"], record["version"]
            old = held.get(rid)
            if rid in stones and stones[rid] >= version:
                self._outcome(entity, record, "superseded", "The provider deleted this record.")
                continue
            if old is not None and old[0] != provider:
                self._conflict(
                    entity,
                    record,
                    old,
                    "other_provider",
                    "Another provider already sent a record with this id.",
                )
                continue
            if old is not None and old[1] > version:
                self._outcome(
                    entity,
                    record,
                    "superseded",
                    f"The VRP already holds a newer version ({old[1]}).",
                )
                continue
            if old is not None and old[1] == version:
                if old[2] == digest:
                    self._outcome(entity, record, "unchanged")
                else:
                    self._conflict(
                        entity,
                        record,
                        old,
                        "same_version",
                        f"The VRP already holds version {version} of this record with different "
                        "content (was a backup restored?). Edit the record so it gets a new "
                        "version, then send it again.",
                    )
                continue
            if old is not None:
                replaced.append((rid,))
            self._remember(entity, record)
            values = [rid, provider, version, batch, digest]
            for column in _COLUMNS[entity]:
                value = record.get(column)
                if column in _JSON_COLUMNS:
                    value = json.dumps(value if value is not None else [])
                elif column == "active":
                    value = 1 if value else 0
                elif column == "starts_at":
                    value = _db_datetime(value, wall_time=True)
                elif isinstance(value, dt.date):
                    value = value.isoformat()
                values.append(value)
            inserts.append(tuple(values))
            self._outcome(entity, record, "accepted")
        if replaced:
            self.conn.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", replaced)
            if entity == "session":
                self.conn.exec_driver_sql(
                    "DELETE FROM imported_attendance WHERE session_id = ?", replaced
                )
        if inserts:
            self.conn.exec_driver_sql(insert_sql(entity), inserts)
            if entity == "session":
                register = [
                    (
                        a["id"],
                        provider,
                        a.get("version") or 1,
                        batch,
                        row[4],
                        row[0],
                        a["participant_id"],
                        a.get("status"),
                    )
                    for row, (record, _d) in zip(
                        inserts, _accepted_only(sound, inserts), strict=True
                    )
                    for a in record.get("register") or ()
                ]
                if register:
                    self.conn.exec_driver_sql(ATTENDANCE_SQL, register)

    def _remember(self, entity: str, record: dict[str, Any]) -> None:
        if entity == "intervention":
            self.ctx.interventions[record["id"]] = (
                record["framework_id"],
                record["framework_version"],
            )
        elif entity == "participant":
            self.ctx.people.add(record["id"])
        elif entity == "enrolment":
            self.ctx.enrolments[record["id"]] = {
                k: record.get(k)
                for k in (
                    "id",
                    "participant_id",
                    "intervention_id",
                    "start_date",
                    "end_date",
                    "referral_date",
                )
            }
            self.ctx.add_span(record)

    def _conflict(self, entity, record, old, kind: str, detail: str) -> None:
        self._outcome(entity, record, "conflict", detail)
        offered = json.loads(json.dumps(record, default=str))
        self.conn.execute(
            ImportConflict.__table__.insert(),
            {
                "provider_id": self.ctx.provider_id,
                "batch_id": self.batch_id,
                "entity": entity,
                "record_id": record["id"],
                "held_version": old[1],
                "offered_version": record["version"],
                "kind": kind,
                "detail": detail,
                "offered": offered,
                "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            },
        )
        if len(self.conflicts) < 1000:
            self.conflicts.append(
                {"entity": entity, "id": record["id"], "kind": kind, "detail": detail}
            )

    def _tombstones(self, sound: list[tuple[dict[str, Any], str]]) -> None:
        provider = self.ctx.provider_id
        for record, _digest in sound:
            entity, rid, version = record["entity"], record["entity_id"], record["version"]
            table = _TABLE.get(entity, "imported_attendance")
            held = self.conn.exec_driver_sql(
                f"SELECT provider_id, version FROM {table} WHERE id = ?", (rid,)
            ).first()
            if held is not None and held[0] != provider:
                self._outcome(
                    "tombstone",
                    record,
                    "rejected",
                    "The record it deletes belongs to another provider.",
                )
                continue
            if held is not None:
                self.conn.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", (rid,))
                if entity == "session":
                    self.conn.exec_driver_sql(
                        "DELETE FROM imported_attendance WHERE session_id = ?", (rid,)
                    )
            self.conn.exec_driver_sql(
                "INSERT OR REPLACE INTO imported_tombstone (entity, record_id, provider_id, "
                "version, reason, batch_id, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entity,
                    rid,
                    provider,
                    version,
                    record.get("reason"),
                    self.batch_id,
                    _db_datetime(record.get("deleted_at")),
                ),
            )
            self.has_tombstones = True
            self._outcome("tombstone", record, "accepted")


def _accepted_only(sound, inserts):
    wanted = {row[0] for row in inserts}
    return [(r, d) for r, d in sound if r["id"] in wanted]


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
        if seen is not None:
            raise SyncError(
                f"{path.name} was already imported on "
                f"{clock.show(seen.created_at, '%d %B %Y')} (batch "
                f"{seen.id}); importing it again would change nothing, so nothing was done."
            )
    report("Checking the batch", 0, 1)
    keys = coordinator.material(ws)
    body, provider = verify_batch(ws, path)
    batch_id = str(body["batch_id"])
    result.batch_id, result.provider_code, result.provider_id = batch_id, provider.code, provider.id
    with ws.read() as session:
        seen = _already(session, batch_id, None)
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
            result.receipt = str(receipt_path)
    except _DryRun:
        pass
    return result


def _apply_all(ws, keys, path, body, provider, result, writer, report, file_sha, dry_run=False):
    with ws.unit() as session:
        ctx = _Context(session, provider.id)
        handler = _Apply(ctx, result.batch_id, body, writer, report, dry_run)
        _decrypt(path, keys["identity"], handler)
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
            session.execute(
                BatchItem.__table__.insert(),
                [
                    dict(
                        zip(
                            ("batch_id", "entity", "record_id", "version", "outcome", "reason"),
                            item,
                            strict=True,
                        )
                    )
                    for item in handler.items
                ],
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
