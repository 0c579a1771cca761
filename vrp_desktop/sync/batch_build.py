"""Building a batch: the records the VRP does not hold yet, signed, encrypted, to the outbox.

What goes: every record in state ``valid`` (new, or changed since it was last sent), every
unsent tombstone, and every young person the VRP already holds whose area under the
partnership's rule now differs from the one their record last travelled with (``resend``: a
new version, so the VRP replaces the old one), projected through the allow-lists in
``manifest``. What stays behind, in a quarantine list with reasons: records saved with errors
(``draft``) and records that depend on one (an enrolment of a young person whose record has
errors), so one bad record never blocks the rest and the VRP never gets a child without its
parent.

The build is one transaction that starts by writing (so nothing else writes meanwhile), streams
rows -> JSON Lines -> ZIP -> age -> ``.NAME.part`` in the outbox (fsynced), marks the records
``sent`` and commits; only then is the part file renamed to its final name. The part file's
name carries the batch id, so a crash at any point is settled by ``recover`` (run before every
build and by ``vrp batch status``): a part file whose batch row committed is renamed into place
(the build finished), one whose row did not commit is removed (the build never happened). So
the outbox never holds a batch the workspace does not know it sent, and a crash never makes the
next build send everything again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import select

from vrp_desktop import clock, faults
from vrp_desktop.ids import uuid7
from vrp_desktop.returns.quarters import parse_quarter, quarter_of
from vrp_desktop.services import audit
from vrp_desktop.store.models import Batch, Participant, Provider
from vrp_desktop.sync import (
    common,
    linkage,
    manifest,
    matching,
    outbox,
    quasi,
    resend,
    zipstream,
)
from vrp_desktop.sync.common import Progress, SyncError

_LINES_PER_CHUNK = 2000

_SQL = {
    "intervention": "SELECT id, version, framework_id, framework_version, name, tier, setting, "
    "area, active FROM intervention WHERE sync_state = 'valid'",
    "participant": "SELECT id, version, pseudonym, age_band, substr(date_of_birth, 1, 7) AS "
    "birth_month, gender, ethnicity, postcode_district, NULL AS local_authority, "
    "consent_status, consent_date, first_name, last_name, date_of_birth "
    "FROM participant "
    "WHERE sync_state = 'valid' AND erased_at IS NULL",
    "enrolment": "SELECT id, version, participant_id, intervention_id, referral_source, "
    "referral_date, start_date, end_date, exit_reason FROM enrolment WHERE sync_state = 'valid'",
    "session": "SELECT id, version, intervention_id, starts_at, duration_minutes, session_type, "
    "mode, location_type, activities, staff, status FROM session WHERE sync_state = 'valid' "
    "ORDER BY id",
    "outcome_response": "SELECT id, version, participant_id, enrolment_id, measure_id, "
    "timepoint, completed_on, answers, scores, bands, scoring_version FROM outcome_response "
    "WHERE sync_state = 'valid'",
    "tombstone": "SELECT id, entity, entity_id, version, reason, deleted_at FROM tombstone "
    "WHERE sync_state = 'valid'",
}
_REGISTER_SQL = (
    "SELECT a.session_id, a.id, a.version, a.participant_id, a.status FROM attendance a "
    "JOIN session s ON s.id = a.session_id WHERE s.sync_state = 'valid' ORDER BY a.session_id"
)
_TABLES = {e: e for e in manifest.ENTITIES}
_PART = ".part"
_PART_NAME = re.compile(
    r"^\.(batch-.+-(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    + re.escape(common.BATCH_SUFFIX)
    + r")"
    + re.escape(_PART)
    + "$"
)


def _datetime_text(value: Any) -> Any:
    return value[:19].replace(" ", "T") if isinstance(value, str) else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- what is held back, and why -----------------------------------------------------------------


class _Blocked:
    """Draft records and the valid ones that depend on them, with the reason to show."""

    def __init__(self, conn) -> None:
        def ids(sql: str) -> set[str]:
            return {row[0] for row in conn.exec_driver_sql(sql)}

        self.draft_people = ids("SELECT id FROM participant WHERE sync_state = 'draft'")
        self.draft_interventions = ids("SELECT id FROM intervention WHERE sync_state = 'draft'")
        self.draft_enrolments = ids("SELECT id FROM enrolment WHERE sync_state = 'draft'")
        self.references: dict[str, str] = {}
        if self.draft_people:
            for pid, ref in conn.exec_driver_sql(
                "SELECT id, reference FROM participant WHERE sync_state = 'draft'"
            ):
                self.references[pid] = ref
        #: (entity, id) -> reason; filled while streaming
        self.held: dict[tuple[str, str], str] = {}

    def _person(self, pid: str) -> str:
        return self.references.get(pid, "a young person")

    def check(self, entity: str, row: dict[str, Any], register: list | None = None) -> str | None:
        reason = None
        if entity == "enrolment":
            if row["participant_id"] in self.draft_people:
                reason = f"Waiting for {self._person(row['participant_id'])}'s record to be fixed."
            elif row["intervention_id"] in self.draft_interventions:
                reason = "Waiting for its intervention to be fixed."
        elif entity == "session":
            if row["intervention_id"] in self.draft_interventions:
                reason = "Waiting for its intervention to be fixed."
            else:
                stuck = [
                    a["participant_id"]
                    for a in register or ()
                    if a["participant_id"] in self.draft_people
                ]
                if stuck:
                    names = ", ".join(sorted(self._person(p) for p in stuck)[:5])
                    reason = f"Waiting for these young people's records to be fixed: {names}."
        elif entity == "outcome_response":
            if row["participant_id"] in self.draft_people:
                reason = f"Waiting for {self._person(row['participant_id'])}'s record to be fixed."
            elif (
                row.get("enrolment_id") in self.draft_enrolments
                or (
                    "enrolment",
                    row.get("enrolment_id"),
                )
                in self.held
            ):
                reason = "Waiting for its enrolment to be fixed."
        if reason:
            self.held[(entity, row["id"])] = reason
        return reason


# -- streaming the records ----------------------------------------------------------------------


def _rows(conn, entity: str) -> Iterator[dict[str, Any]]:
    result = conn.exec_driver_sql(_SQL[entity])
    names = list(result.keys())
    while True:
        batch = result.fetchmany(_LINES_PER_CHUNK)
        if not batch:
            return
        for values in batch:
            yield dict(zip(names, values, strict=True))


def _registers(conn) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(session id, register) in session id order, merged with the session stream."""
    result = conn.exec_driver_sql(_REGISTER_SQL)
    current: str | None = None
    lines: list[dict[str, Any]] = []
    while True:
        rows = result.fetchmany(_LINES_PER_CHUNK)
        if not rows:
            break
        for sid, aid, version, pid, status in rows:
            if sid != current:
                if current is not None:
                    yield current, lines
                current, lines = sid, []
            lines.append({"id": aid, "version": version, "participant_id": pid, "status": status})
    if current is not None:
        yield current, lines


def _project(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    if entity == "intervention":
        row["active"] = bool(row["active"])
    elif entity == "session":
        row["starts_at"] = clock.travelling_start(row["starts_at"])  # with its UTC offset
        row["activities"] = _json(row["activities"]) or []
        row["staff_count"] = len(_json(row.pop("staff")) or [])
    elif entity == "outcome_response":
        row["answers"] = _json(row["answers"])
        row["scores"] = _json(row["scores"]) or {}
        row["bands"] = _json(row["bands"]) or {}
    elif entity == "tombstone":
        row["deleted_at"] = clock.travelling_utc(row["deleted_at"])
    return row


class _Member:
    """One entity's JSON Lines: streamed, counted and hashed as the ZIP asks for it."""

    def __init__(
        self,
        conn,
        entity: str,
        blocked: _Blocked,
        tick,
        key: str | None = None,
        coarsening: quasi.Coarsening | None = None,
    ) -> None:
        self.conn, self.entity, self.blocked, self.tick = conn, entity, blocked, tick
        self.key = key  # the linkage key, for the participant's coarse token
        self.coarsening = coarsening  # the partnership's quasi-identifier rule, worked out
        self.sha = hashlib.sha256()
        self.count = self.bytes = self.attendances = 0
        self.groups: Counter = Counter()  # participants by quasi-identifiers (see ``quasi``)
        self.before: Counter = Counter()  # the same, before the rule coarsened any
        self.coarsened: Counter = Counter()  # records per coarsening step
        #: (id, version, district, local authority) as each participant travels (``resend``)
        self.areas: list[tuple[str, int, str | None, str | None]] = []

    def __iter__(self) -> Iterator[bytes]:
        lines: list[bytes] = []
        registers = _registers(self.conn) if self.entity == "session" else None
        pending = next(registers, None) if registers else None
        for row in _rows(self.conn, self.entity):
            register: list[dict[str, Any]] | None = None
            if registers is not None:
                register = []
                while pending is not None and pending[0] < row["id"]:
                    pending = next(registers, None)
                if pending is not None and pending[0] == row["id"]:
                    register = pending[1]
                    pending = next(registers, None)
            if self.blocked.check(self.entity, row, register):
                continue
            if self.entity == "participant":
                # identity is read only to make the coarse token, and never travels
                first, last, born = (
                    row.pop("first_name"),
                    row.pop("last_name"),
                    row.pop("date_of_birth"),
                )
                born = dt.date.fromisoformat(born) if isinstance(born, str) else born
                row["match_token"] = matching.coarse_token(self.key, first, last, born)
            record = _project(self.entity, row)
            if self.entity == "participant":
                self.before[quasi.key(record)] += 1
                if self.coarsening is not None and (step := self.coarsening.apply(record)):
                    self.coarsened[step] += 1
                self.groups[quasi.key(record)] += 1
                self.areas.append(
                    (
                        record["id"],
                        record["version"],
                        record.get("postcode_district"),
                        record.get("local_authority"),
                    )
                )
            if register is not None:
                record["register"] = register
                self.attendances += len(register)
            lines.append(_dumps(record))
            if len(lines) >= _LINES_PER_CHUNK:
                yield self._emit(lines)
                lines = []
        if lines:
            yield self._emit(lines)

    def _emit(self, lines: list[bytes]) -> bytes:
        chunk = b"\n".join(lines) + b"\n"
        self.sha.update(chunk)
        self.count += len(lines)
        self.bytes += len(chunk)
        self.tick(len(lines))
        return chunk


class _Rotation:
    """The rotation member: old pseudonym -> new, hashed and counted like an entity member."""

    def __init__(self, pairs: list[list[str]]) -> None:
        self.pairs = pairs
        self.sha = hashlib.sha256()
        self.count = self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.pairs), _LINES_PER_CHUNK):
            lines = [
                _dumps({"old": old, "new": new})
                for old, new in self.pairs[start : start + _LINES_PER_CHUNK]
            ]
            chunk = b"\n".join(lines) + b"\n"
            self.sha.update(chunk)
            self.count += len(lines)
            self.bytes += len(chunk)
            yield chunk


# -- building -----------------------------------------------------------------------------------


def _disclosure(
    people: _Member, coarsening: quasi.Coarsening, resent: resend.Due
) -> dict[str, Any]:
    """The manifest's k-anonymity section: this batch's people as they travel, the same
    before the partnership's rule, how many the rule coarsened, the figure over everyone
    the VRP holds or will hold from this provider before and after the rule, and how many
    records the VRP already held travel again because their area under the rule changed."""
    rule = coarsening.rule
    min_k = rule.min_k if rule else None
    return {
        **quasi.figure(people.groups, min_k),
        "before": quasi.figure(people.before, min_k),
        "rule": {"min_k": rule.min_k, "summary": rule.summary()} if rule else None,
        "coarsened": {
            "local_authority": people.coarsened["local_authority"],
            "withheld": people.coarsened["withheld"],
        },
        "held": {"before": coarsening.before, "after": coarsening.after},
        "resent": resent.figures(),
    }


def _period(on: dt.date) -> str:
    """The financial quarter a batch is labelled with (one Quarter type: returns list it)."""
    return quarter_of(on).label


def _to_send(conn) -> int:
    total = 0
    for entity in manifest.ENTITIES:
        sql = _SQL[entity].replace(" ORDER BY id", "")
        total += conn.exec_driver_sql(f"SELECT count(*) FROM ({sql})").scalar() or 0
    return total


class _HashingWriter:
    def __init__(self, handle) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def build_batch(
    ws,
    *,
    outbox_folder: Path | None = None,
    period: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build, sign, encrypt and write the next batch; returns what went and what stayed.

    Raises ``SyncError`` when there is nothing to send (no file is written then).
    """
    label = parse_quarter(period).label if period else _period(dt.date.today())
    common.require_joined(ws)
    ws.require("send_batch")
    report = progress or common.no_progress
    folder = outbox.resolve(ws, outbox_folder)
    recipients = []
    for text in common.json_setting(ws, common.VRP_RECIPIENTS, []):
        try:
            recipients.append(pyrage.x25519.Recipient.from_str(text))
        except pyrage.RecipientError:
            raise SyncError(
                "The VRP's public key in this workspace is not readable; join again with a new "
                "onboarding pack."
            ) from None
    provider_code = ws.setting(common.PROVIDER_CODE)
    provider_id = ws.setting(common.PROVIDER_ID)
    vrp_id = ws.setting(common.VRP_ID)
    previous_batch_id = ws.setting(common.LAST_BATCH_ID)
    key_info = linkage.batch_linkage(ws)
    linkage_key = ws.setting(linkage.KEY)
    rotation = linkage.pending_rotation(ws)
    rule = quasi.rule_of(ws)
    recover(ws, folder)
    batch_id = uuid7()
    target = folder / outbox.batch_file_name(provider_code, batch_id)
    part = folder / f".{target.name}{_PART}"
    written = False
    try:
        with ws.unit() as session:
            own = session.scalar(select(Provider).where(Provider.is_self.is_(True)))
            batch = Batch(
                id=batch_id,
                provider_id=provider_id,
                direction="out",
                period=label,
                previous_batch_id=previous_batch_id,
                status="building",
            )
            session.add(batch)
            session.flush()  # takes the write lock: nothing else writes while we build
            conn = session.connection()
            # the rule over everyone the VRP holds or will hold; held records whose area under
            # it differs from what they last travelled with get a new version and go again
            coarsening = quasi.coarsen(quasi.population(session), rule)
            resent = resend.due(conn, coarsening)
            resend.mark(conn, resent.ids)
            faults.point("build.resend_marked")
            total = _to_send(conn)
            if total == 0 and not (rotation and rotation["pairs"]):
                raise common.NothingToSend(
                    "There is nothing new to send: every record the VRP should have is already "
                    "sent, or waiting to be fixed."
                )
            blocked = _Blocked(conn)
            done = [0]

            def tick(n: int) -> None:
                done[0] += n
                report("Packing records", done[0], total)

            members = {
                e: _Member(conn, e, blocked, tick, linkage_key, coarsening)
                for e in manifest.ENTITIES
            }
            rotated = _Rotation(rotation["pairs"]) if rotation else None
            travelling = [(manifest.MEMBERS[e], m) for e, m in members.items()]
            if rotated is not None:
                travelling.insert(0, (manifest.ROTATION_MEMBER, rotated))
            created_at = common.utc_now_iso()
            audit_head = audit.head(session).as_dict()
            frameworks: dict[str, list[int]] = {}
            for fid, version in conn.exec_driver_sql(
                "SELECT DISTINCT framework_id, framework_version FROM intervention"
            ):
                frameworks.setdefault(fid, []).append(version)

            def trailer() -> list[tuple[str, bytes]]:
                counts = {e: m.count for e, m in members.items()}
                counts["attendance"] = members["session"].attendances
                listed = {
                    name: {"sha256": m.sha.hexdigest(), "bytes": m.bytes, "records": m.count}
                    for name, m in travelling
                }
                key_section = dict(key_info)
                if rotation is not None:
                    key_section["rotation"] = {
                        "from_key_id": rotation["from_key_id"],
                        "to_key_id": rotation["to_key_id"],
                        "pairs": rotated.count,
                    }
                body = manifest.make_manifest(
                    batch_id=batch_id,
                    vrp_id=vrp_id,
                    provider_id=provider_id,
                    provider_code=provider_code,
                    period=batch.period,
                    created_at=created_at,
                    previous_batch_id=batch.previous_batch_id,
                    framework_versions=frameworks,
                    audit_head=audit_head,
                    counts=counts,
                    members=listed,
                    linkage=key_section,
                    disclosure=_disclosure(members["participant"], coarsening, resent),
                )
                batch.manifest = json.loads(body)
                signature = common.sign(own.signing_private_key, body)
                return [
                    (manifest.MANIFEST, body),
                    (manifest.SIGNATURE, common.b64(signature).encode()),
                ]

            source = zipstream.producer(iter(travelling), trailer)
            handle = _open_part(part)
            written = True
            with handle:
                sink = _HashingWriter(handle)
                try:
                    pyrage.encrypt_io(source, sink, recipients)
                except pyrage.EncryptError:
                    if source.error is not None:
                        raise source.error from None
                    raise
                handle.flush()
                os.fsync(handle.fileno())
            faults.point("build.part_written")
            report("Marking records sent", 0, 1)
            sent = sum(m.count for m in members.values())
            _mark_sent(conn, blocked)
            resend.record(conn, members["participant"].areas)
            faults.point("build.areas_recorded")
            batch.status = "sent"
            batch.record_count = sent
            batch.file_sha256 = sink.sha.hexdigest()
            batch.file_name = target.name
            counts = dict(batch.manifest["counts"])
            batch.report = {
                "counts": counts,
                "held_back": len(blocked.held),
                "outbox": str(folder),
                "resent_for_rule": len(resent.ids),
            }
            ws.set_setting(session, common.LAST_BATCH_ID, batch_id)
            if rotation is not None:
                ws.set_setting(session, linkage.PENDING, "")  # it travels in this batch
            audit.append(
                session,
                ws.user.username,
                "batch.build",
                "batch",
                batch_id,
                after={
                    "counts": counts,
                    "held_back": len(blocked.held),
                    "file": target.name,
                    "resent_for_rule": len(resent.ids),
                },
            )
            report("Marking records sent", 1, 1)
    except BaseException:
        if written:
            part.unlink(missing_ok=True)
        raise
    faults.point("build.committed")
    os.replace(part, target)
    _fsync_dir(folder)
    return {
        "batch_id": batch_id,
        "file": str(target),
        "records": sent,
        "counts": counts,
        "held_back": [
            {"entity": e, "id": rid, "reason": reason} for (e, rid), reason in blocked.held.items()
        ],
        "previous_batch_id": batch.previous_batch_id,
        "linkage": batch.manifest.get("linkage"),
        "disclosure": batch.manifest.get("disclosure"),
    }


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_part(part: Path):
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    return os.fdopen(fd, "wb")


def recover(ws, folder: Path | None = None) -> dict[str, list[str]]:
    """Settle what a crashed build left in the outbox: finish it, or undo it.

    A ``.part`` file whose batch committed is renamed to its final name; one whose batch did
    not commit is removed (its records were never marked sent). Returns what was done.
    """
    done: dict[str, list[str]] = {"finished": [], "removed": []}
    folders = {Path(f) for f in (folder, outbox.outbox_folder(ws)) if f is not None}
    code = ws.setting(common.PROVIDER_CODE)
    for place in folders:
        try:
            parts = [p for p in place.iterdir() if _PART_NAME.match(p.name)]
        except OSError:
            continue
        for part in parts:
            match = _PART_NAME.match(part.name)
            final_name, batch_id = match.group(1), match.group("id")
            if code and not final_name.startswith(f"batch-{code}-"):
                continue
            with ws.read() as session:
                row = session.get(Batch, batch_id)
                known = row is not None and row.direction == "out"
            if known:
                os.replace(part, place / final_name)
                done["finished"].append(final_name)
            else:
                part.unlink(missing_ok=True)
                done["removed"].append(part.name)
            _fsync_dir(place)
    return done


def _mark_sent(conn, blocked: _Blocked) -> None:
    """valid -> sent for exactly what was written (held-back records go back to valid)."""
    for entity in ("intervention", "participant", "enrolment", "session", "outcome_response"):
        conn.exec_driver_sql(
            f"UPDATE {_TABLES[entity]} SET sync_state = 'sent' WHERE sync_state = 'valid'"
        )
    conn.exec_driver_sql("UPDATE tombstone SET sync_state = 'sent' WHERE sync_state = 'valid'")
    for entity in ("enrolment", "session", "outcome_response"):
        ids = [(rid,) for (e, rid) in blocked.held if e == entity]
        if ids:
            conn.exec_driver_sql(
                f"UPDATE {entity} SET sync_state = 'valid' WHERE id = ?",
                ids,
            )
    conn.exec_driver_sql(
        "UPDATE attendance SET sync_state = 'sent' WHERE sync_state = 'valid' AND session_id IN "
        "(SELECT id FROM session WHERE sync_state = 'sent')"
    )


# -- what the Sync page shows before building ---------------------------------------------------


def preview(ws, *, limit: int = 500) -> dict[str, Any]:
    """Counts waiting to go, and the quarantine: what stays behind and why.

    Settles what a crashed build left in the outbox first (see ``recover``), so the Sync page
    and ``vrp batch status`` never count records a finished batch already carries.
    """
    recover(ws)
    rule = quasi.rule_of(ws)
    with ws.read() as session:
        conn = session.connection()
        pending = {}
        for entity in manifest.ENTITIES:
            sql = _SQL[entity].replace(" ORDER BY id", "")
            pending[entity] = conn.exec_driver_sql(f"SELECT count(*) FROM ({sql})").scalar()
        # held records the next build sends again because their area under the rule changed
        resent = resend.due(conn, quasi.coarsen(quasi.population(session), rule)).figures()
        pending["participant"] += resent["records"]
        blocked = _Blocked(conn)
        quarantine: list[dict[str, Any]] = []
        for entity in ("participant", "enrolment", "session", "outcome_response", "intervention"):
            rows = conn.exec_driver_sql(
                f"SELECT id, findings FROM {entity} WHERE sync_state = 'draft' "
                f"ORDER BY updated_at DESC LIMIT {int(limit)}"
            )
            for rid, findings in rows:
                reasons = [f.get("message", "") for f in (_json(findings) or [])] or [
                    "Saved with problems; open it to see them."
                ]
                quarantine.append({"entity": entity, "id": rid, "reasons": reasons})
        for entity in ("enrolment", "session", "outcome_response"):
            for row in _rows(conn, entity):
                register = None
                if entity == "session":
                    register = (
                        [
                            {"participant_id": pid}
                            for (pid,) in conn.exec_driver_sql(
                                "SELECT participant_id FROM attendance WHERE session_id = ?",
                                (row["id"],),
                            )
                        ]
                        if blocked.draft_people
                        else []
                    )
                reason = blocked.check(entity, row, register)
                if reason:
                    pending[entity] -= 1
                    quarantine.append({"entity": entity, "id": row["id"], "reasons": [reason]})
        references = dict(
            session.execute(
                select(Participant.id, Participant.reference).where(
                    Participant.id.in_(
                        [q["id"] for q in quarantine if q["entity"] == "participant"]
                    )
                )
            ).all()
        )
    for item in quarantine:
        item["label"] = references.get(item["id"], item["entity"].replace("_", " "))
    return {
        "joined": common.joined(ws),
        "pending": pending,
        "pending_total": sum(pending.values()),
        "quarantine": quarantine[:limit],
        "quarantined": len(quarantine),
        "outbox": str(outbox.outbox_folder(ws) or ""),
        "resend": resent,
    }
