"""What the VRP holds from a provider, and the rules that make arrival order irrelevant.

Batches can arrive in any order (a USB stick found late, a batch resent after a gap), so every
rule here decides from the record and what the store holds, never from which batch came first:

- **Versions**: the highest version of a record wins; an older one is left as it is
  (*superseded*); the same version with different content is a *conflict*, kept and shown with
  the offered record (allow-listed keys only), never silently dropped.
- **Tombstones** compare versions: a tombstone for version n removes a held version <= n, and
  blocks any version <= n that arrives later; a held newer version stays.
- **References**: an enrolment, session or questionnaire whose young person, intervention or
  enrolment the VRP does not hold yet is kept *pending* (``imported_pending``) and applied when
  that record arrives (``release``). A reference to something deleted or erased means the
  record is gone too: an erasure removes the erased person's enrolments, questionnaires and
  register lines, and only those; a session keeps everyone else's lines.

Each import calls ``offer`` per chunk of checked records, ``tombstones`` for deletions, then
``release`` once; all inside the import's one transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Iterable
from typing import Any

from vrp_desktop import clock
from vrp_desktop.store.models import utcnow
from vrp_desktop.sync import import_check
from vrp_desktop.sync.import_check import Refs
from vrp_desktop.validation import batch_schema

TABLE = {
    "intervention": "imported_intervention",
    "participant": "imported_participant",
    "enrolment": "imported_enrolment",
    "session": "imported_session",
    "attendance": "imported_attendance",
    "outcome_response": "imported_response",
}
COLUMNS = {
    "intervention": (
        "framework_id", "framework_version", "name", "tier", "setting", "area", "active",
    ),
    "participant": (
        "pseudonym", "age_band", "birth_month", "gender", "ethnicity", "postcode_district",
        "local_authority", "consent_status", "consent_date", "match_token",
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
JSON_COLUMNS = frozenset({"activities", "answers", "scores", "bands"})
#: records that can wait, in the order they are released (parents first)
DEPENDENT = ("enrolment", "session", "outcome_response")
_IN = 900  # ids per "IN (...)" query, well under SQLite's variable limit

# portable SQL (SQLite and PostgreSQL): ON CONFLICT rather than INSERT OR IGNORE / REPLACE
ATTENDANCE_SQL = (
    "INSERT INTO imported_attendance (id, provider_id, version, batch_id, "
    "content_sha256, session_id, participant_id, status, intervention_id, session_status, "
    "duration_minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def insert_sql(entity: str) -> str:
    columns = ("id", "provider_id", "version", "batch_id", "content_sha256", *COLUMNS[entity])
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {TABLE[entity]} ({', '.join(columns)}) VALUES ({marks})"


def _chunks(items: list, size: int = _IN) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _db_datetime(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str | None:
    """A session start as stored: the local wall-clock time it means (clock.received_start).

    ``zone`` is the local zone, looked up once per chunk by ``offer`` (one look-up per
    session was a measurable share of an import); ``isoformat`` writes exactly what
    ``strftime("%Y-%m-%d %H:%M:%S.%f")`` does for the years a batch may carry, faster."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(zone or clock.local_zone()).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _db_timestamp(value: dt.datetime | None) -> str | None:
    """Any other travelled timestamp as stored: naive UTC (clock.as_utc)."""
    if value is None:
        return None
    return clock.as_utc(value).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _db_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _db_json(value: Any) -> str:
    return json.dumps(value if value is not None else [])


def _db_codes(value: Any) -> str:
    """A list of codes exactly as ``_db_json`` writes it, without the encoder's per-call
    set-up: codes (``[a-z0-9_]``, checked by the batch schema) need no escaping. Any list
    whose text might need escaping is left to ``json.dumps``."""
    if value.__class__ is list:
        try:
            text = "".join(value)
        except TypeError:  # not all strings
            return _db_json(value)
        if not value:
            return "[]"
        if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
            return '["' + '", "'.join(value) + '"]'
    return _db_json(value)


def _db_flag(value: Any) -> bool:
    return bool(value)  # SQLite stores 1/0; PostgreSQL's boolean takes no integer


_DATE_COLUMNS = {"consent_date", "referral_date", "start_date", "end_date", "completed_on"}
#: per entity, each stored column with the conversion its value needs (None: none), worked
#: out once, so building a row is a loop of plain lookups
_CONVERT = {
    entity: tuple(
        (
            column,
            _db_codes
            if column == "activities"
            else _db_json
            if column in JSON_COLUMNS
            else _db_flag
            if column == "active"
            else _db_datetime
            if column == "starts_at"
            else _db_date
            if column in _DATE_COLUMNS
            else None,
        )
        for column in columns
    )
    for entity, columns in COLUMNS.items()
}


def _row_builder(entity: str, zone: dt.tzinfo) -> Callable[[dict[str, Any]], list[Any]]:
    """``record -> [stored column values]`` for ``COLUMNS[entity]``: one ``itemgetter`` call,
    then the few conversions by index (a per-column loop was a share of a large import)."""
    columns = COLUMNS[entity]
    get = operator.itemgetter(*columns)
    convert = [
        (index, functools.partial(_db_datetime, zone=zone) if fn is _db_datetime else fn)
        for index, (_column, fn) in enumerate(_CONVERT[entity])
        if fn is not None
    ]

    def build(record: dict[str, Any]) -> list[Any]:
        values = list(get(record))
        for index, fn in convert:
            values[index] = fn(values[index])
        return values

    return build


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


#: how a reference is looked up: id and provider first
_REF_SQL = {
    "participant": "SELECT id, provider_id FROM imported_participant",
    "intervention": "SELECT id, provider_id, framework_id, framework_version "
    "FROM imported_intervention",
    "enrolment": "SELECT id, provider_id, participant_id, intervention_id, start_date, "
    "end_date, referral_date FROM imported_enrolment",
}


_MISSING = ("missing", None)
_NO_VERSIONS: dict[int, str] = {}

#: outcome callback: (entity, record, outcome, reason); outcome is one of unchanged,
#: superseded, rejected, pending, conflict (and accepted, for tombstones)
Outcome = Callable[[str, dict[str, Any], str, str | None], None]


class Holder:
    """The VRP's holdings from one provider, inside one import transaction."""

    def __init__(
        self,
        conn,
        provider_id: str,
        batch_id: str,
        checker,
        outcome: Outcome,
        accepted: Callable[[str, list[dict[str, Any]]], None],
    ) -> None:
        self.conn = conn
        self.provider = provider_id
        self.batch_id = batch_id
        self.checker: import_check.Checker = checker
        #: every decision but "accepted" (a few), and the accepted records of a chunk (most)
        self.outcome = outcome
        self.accepted = accepted
        self.released = 0
        self.conflicts: list[dict[str, Any]] = []
        #: set by ``_resolve`` for a session: every register line is kept (no erased person,
        #: no deleted line), so ``offer`` need not filter the register again
        self.whole_register = True
        self.has_stones = self._exists("imported_tombstone")
        self.has_pending = self._exists("imported_pending")
        #: kind -> id -> ("ok", row) | ("gone", None) | ("foreign", None) | ("missing", None)
        self._refs: dict[str, dict[str, tuple[str, Any]]] = {
            "participant": {},
            "intervention": {},
            "enrolment": {},
        }

    def _exists(self, table: str) -> bool:
        return (
            self.conn.exec_driver_sql(
                f"SELECT 1 FROM {table} WHERE provider_id = ? LIMIT 1", (self.provider,)
            ).first()
            is not None
        )

    # -- what is held -----------------------------------------------------------------------

    def _held(self, entity: str, ids: list[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for row in self.conn.exec_driver_sql(
                f"SELECT id, provider_id, version, content_sha256 FROM {TABLE[entity]} "
                f"WHERE id IN ({marks})",
                tuple(part),
            ):
                found[row[0]] = row[1:]
        return found

    def _stones(self, entity: str, ids: list[str]) -> dict[str, tuple[str, int]]:
        if not self.has_stones or not ids:
            return {}
        found: dict[str, tuple[str, int]] = {}
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for rid, provider, version in self.conn.exec_driver_sql(
                "SELECT record_id, provider_id, version FROM imported_tombstone "
                f"WHERE entity = ? AND record_id IN ({marks})",
                (entity, *part),
            ):
                found[rid] = (provider, version)
        return found

    def _pending(self, entity: str, ids: list[str]) -> dict[str, dict[int, str]]:
        if not self.has_pending:
            return {}
        found: dict[str, dict[int, str]] = {}
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for rid, version, digest in self.conn.exec_driver_sql(
                "SELECT record_id, version, content_sha256 FROM imported_pending "
                f"WHERE provider_id = ? AND entity = ? AND record_id IN ({marks})",
                (self.provider, entity, *part),
            ):
                found.setdefault(rid, {})[version] = digest
        return found

    # -- what a record refers to ------------------------------------------------------------

    def _look_up(self, kind: str, ids: set[str]) -> None:
        cache = self._refs[kind]
        todo = [i for i in ids if i not in cache]
        if not todo:
            return
        for part in _chunks(todo):
            marks = ", ".join("?" * len(part))
            for row in self.conn.exec_driver_sql(
                f"{_REF_SQL[kind]} WHERE id IN ({marks})", tuple(part)
            ):
                cache[row[0]] = ("ok", row) if row[1] == self.provider else ("foreign", None)
        rest = [i for i in todo if i not in cache]
        for rid, (provider, _v) in self._stones(kind, rest).items():
            cache[rid] = ("gone", None) if provider == self.provider else ("foreign", None)
        for rid in rest:
            cache.setdefault(rid, ("missing", None))

    def _prefetch(self, entity: str, records: list[dict[str, Any]]) -> dict[str, int]:
        """Fill the reference cache for a chunk; returns attendance tombstone versions."""
        if entity == "enrolment":
            self._look_up("participant", {r["participant_id"] for r in records})
            self._look_up("intervention", {r["intervention_id"] for r in records})
        elif entity == "session":
            self._look_up("intervention", {r["intervention_id"] for r in records})
            self._look_up(
                "participant", {a["participant_id"] for r in records for a in r["register"]}
            )
            if self.has_stones:
                lines = [a["id"] for r in records for a in r["register"]]
                return {k: v for k, (_p, v) in self._stones("attendance", lines).items()}
        elif entity == "outcome_response":
            self._look_up("participant", {r["participant_id"] for r in records})
            self._look_up("enrolment", {r["enrolment_id"] for r in records})
            enrolments = self._refs["enrolment"]
            self._look_up(
                "intervention",
                {
                    state[1][3]
                    for r in records
                    if (state := enrolments[r["enrolment_id"]])[0] == "ok"
                },
            )
        return {}

    def _state(self, kind: str, rid: str) -> tuple[str, Any]:
        return self._refs[kind].get(rid) or _MISSING

    def _resolve(
        self, entity: str, r: dict[str, Any], line_stones: dict[str, int]
    ) -> tuple[str, str, Refs]:
        """("ok" | "missing" | "gone" | "refused", words, Refs) for one record."""
        refs = Refs()
        waiting: list[str] = []
        self.whole_register = False  # said True only by the session branch below
        if entity in ("intervention", "participant"):
            return "ok", "", refs

        state = self._state
        iv_id = r.get("intervention_id")
        if entity == "outcome_response":
            pstate, _row = state("participant", r["participant_id"])
            estate, erow = state("enrolment", r["enrolment_id"])
            if "foreign" in (pstate, estate):
                return "refused", "It refers to a record another provider sent.", refs
            if pstate == "gone":
                return "gone", "Its young person's record was erased or deleted.", refs
            if estate == "gone":
                return "gone", "Its enrolment was deleted.", refs
            if pstate == "missing":
                waiting.append(f"young person {r['participant_id']}")
            if estate == "missing":
                waiting.append(f"enrolment {r['enrolment_id']}")
                iv_id = None
            else:
                iv_id = erow[3]
                refs.enrolment = {
                    "id": erow[0],
                    "participant_id": erow[2],
                    "intervention_id": erow[3],
                    "start_date": _date(erow[4]),
                    "end_date": _date(erow[5]),
                    "referral_date": _date(erow[6]),
                }
        if iv_id is not None:
            istate, irow = state("intervention", iv_id)
            if istate == "foreign":
                return "refused", "It refers to an intervention another provider sent.", refs
            if istate == "gone":
                return "gone", "Its intervention was deleted.", refs
            if istate == "missing":
                waiting.append(f"intervention {iv_id}")
            else:
                refs.framework = self.checker.framework(irow[2], irow[3])
                if refs.framework is None:
                    return "refused", "Its intervention's framework is not published.", refs
        if entity == "enrolment":
            pstate, _row = state("participant", r["participant_id"])
            if pstate == "foreign":
                return "refused", "It refers to a young person another provider sent.", refs
            if pstate == "gone":
                return "gone", "Its young person's record was erased or deleted.", refs
            if pstate == "missing":
                waiting.append(f"young person {r['participant_id']}")
        elif entity == "session":
            people = self._refs["participant"]
            self.whole_register = True
            for line in r["register"]:
                if line_stones and line_stones.get(line["id"], 0) >= line["version"]:
                    self.whole_register = False
                    continue
                known = people.get(line["participant_id"])
                if known is not None and known[0] == "ok":
                    continue  # the common case, decided with one look-up
                self.whole_register = False
                pstate = known[0] if known is not None else "missing"
                if pstate == "foreign":
                    return (
                        "refused",
                        "Its register names a young person another provider sent.",
                        refs,
                    )
                if pstate == "missing":
                    waiting.append(f"young person {line['participant_id']}")
        if waiting:
            shown = ", ".join(waiting[:5]) + (
                f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
            )
            return "missing", f"Waiting for the VRP to receive: {shown}.", refs
        return "ok", "", refs

    def _kept_lines(self, r: dict[str, Any], line_stones: dict[str, int]) -> list[dict[str, Any]]:
        """A session's register without erased people's lines (everyone else's stay)."""
        people = self._refs["participant"]
        return [
            line
            for line in r["register"]
            if line_stones.get(line["id"], 0) < line["version"]
            and (people.get(line["participant_id"]) or ("missing",))[0] == "ok"
        ]

    # -- offering records -------------------------------------------------------------------

    def offer(
        self,
        entity: str,
        items: list[tuple[dict[str, Any], str, str]],
        *,
        release: bool = False,
    ) -> list[str]:
        """Decide and apply checked records ``(record, sha256, batch_id)`` of one entity.

        Returns each item's outcome in order. With ``release`` the items come from the
        pending table: outcomes are reported through ``outcome`` only when they change it.
        """
        results: list[str] = []
        if not items:
            return results
        ids = [r["id"] for r, _d, _b in items]
        held = self._held(entity, ids)
        stones = self._stones(entity, ids)
        waiting = self._pending(entity, ids) if not release else {}
        records = [r for r, _d, _b in items]
        line_stones = self._prefetch(entity, records)
        inserts: list[tuple] = []
        replaced: list[tuple[str]] = []
        lines: list[tuple] = []
        settled: list[tuple] = []  # pending versions this chunk made obsolete
        parked: list[dict[str, Any]] = []
        seen: set[str] = set()
        accepted: list[dict[str, Any]] = []
        provider = self.provider
        build = _row_builder(entity, clock.local_zone())
        remember = entity in ("participant", "intervention", "enrolment")
        for record, digest, batch in items:
            rid, version = record["id"], record["version"]
            if rid in seen:
                results.append(
                    self._say(entity, record, "rejected", "It appears twice in this batch.")
                )
                continue
            seen.add(rid)
            old = held.get(rid)
            stone = stones.get(rid)
            if (old is not None and old[0] != provider) or (
                stone is not None and stone[0] != provider
            ):
                results.append(
                    self._conflict(
                        entity,
                        record,
                        old,
                        "other_provider",
                        "Another provider already sent a record with this id.",
                    )
                )
                continue
            if stone is not None and stone[1] >= version:
                results.append(
                    self._say(
                        entity,
                        record,
                        "superseded",
                        "The provider deleted this record (or erased the person it belongs to).",
                    )
                )
                continue
            if old is not None and old[1] > version:
                results.append(
                    self._say(
                        entity,
                        record,
                        "superseded",
                        f"The VRP already holds a newer version ({old[1]}).",
                    )
                )
                continue
            if old is not None and old[1] == version:
                if old[2] == digest:
                    results.append(self._say(entity, record, "unchanged"))
                else:
                    results.append(self._same_version(entity, record, old[1]))
                continue
            versions = waiting.get(rid, _NO_VERSIONS) if waiting else _NO_VERSIONS
            if version in versions:
                if versions[version] == digest:
                    results.append(self._say(entity, record, "pending", "Still waiting."))
                else:
                    results.append(self._same_version(entity, record, version))
                continue
            status, words, refs = self._resolve(entity, record, line_stones)
            if status == "refused":
                results.append(self._say(entity, record, "rejected", words))
                continue
            if status == "gone":
                results.append(self._say(entity, record, "superseded", words))
                continue
            if entity in ("intervention", "participant") or refs.framework is not None:
                reasons = self.checker.content(entity, record, refs)
                if reasons and release:
                    # it waited for its intervention and fails that framework's rules: kept
                    # and shown, since its batch's receipt has already gone
                    results.append(
                        self._conflict(entity, record, None, "invalid", " ".join(reasons))
                    )
                    continue
                if reasons:
                    results.append(self._say(entity, record, "rejected", " ".join(reasons)))
                    continue
            if status == "missing":
                if not release:
                    parked.append({"record": record, "sha": digest, "batch": batch, "why": words})
                results.append(self._say(entity, record, "pending", words))
                continue
            if old is not None:
                replaced.append((rid,))
            inserts.append((rid, provider, version, batch, digest, *build(record)))
            if entity == "session":
                kept = (
                    record["register"]
                    if self.whole_register
                    else self._kept_lines(record, line_stones)
                )
                # each line carries what the evaluation's dose reads of its session
                # (sync_models.ImportedAttendance): written only here, with the session
                of_session = (
                    record["intervention_id"],
                    record["status"],
                    record["duration_minutes"],
                )
                for a in kept:
                    lines.append(
                        (a["id"], provider, a["version"], batch, digest, rid,
                         a["participant_id"], a["status"], *of_session)
                    )  # fmt: skip
            if self.has_pending:
                settled.append((provider, entity, rid, version))
            if remember:
                self._remember(entity, record)
            accepted.append(record)
            results.append("accepted")
        self._write(entity, inserts, replaced, lines, settled, parked)
        if accepted:
            self.accepted(entity, accepted)
        return results

    def _write(self, entity, inserts, replaced, lines, settled, parked) -> None:
        conn = self.conn
        if replaced:
            conn.exec_driver_sql(f"DELETE FROM {TABLE[entity]} WHERE id = ?", replaced)
            if entity == "session":
                conn.exec_driver_sql(
                    "DELETE FROM imported_attendance WHERE session_id = ?", replaced
                )
        if inserts:
            conn.exec_driver_sql(insert_sql(entity), inserts)
        if lines:
            conn.exec_driver_sql(ATTENDANCE_SQL, lines)
        if settled:
            conn.exec_driver_sql(
                "DELETE FROM imported_pending WHERE provider_id = ? AND entity = ? AND "
                "record_id = ? AND version <= ?",
                settled,
            )
        if parked:
            now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
            conn.exec_driver_sql(
                "INSERT INTO imported_pending (provider_id, entity, record_id, version, "
                "batch_id, content_sha256, record, waiting_for, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (self.provider, entity, p["record"]["id"], p["record"]["version"], p["batch"],
                     p["sha"], json.dumps(batch_schema.plain(p["record"])), p["why"], now)
                    for p in parked
                ],
            )  # fmt: skip
            self.has_pending = True

    def _remember(self, entity: str, record: dict[str, Any]) -> None:
        """What later records of this import may refer to."""
        if entity == "participant":
            self._refs["participant"][record["id"]] = ("ok", (record["id"], self.provider))
        elif entity == "intervention":
            self._refs["intervention"][record["id"]] = (
                "ok",
                (record["id"], self.provider, record["framework_id"], record["framework_version"]),
            )
        elif entity == "enrolment":
            self._refs["enrolment"][record["id"]] = (
                "ok",
                (record["id"], self.provider, record["participant_id"], record["intervention_id"],
                 record["start_date"], record["end_date"], record["referral_date"]),
            )  # fmt: skip

    # -- outcomes ---------------------------------------------------------------------------

    def _say(
        self, entity: str, record: dict[str, Any], outcome: str, reason: str | None = None
    ) -> str:
        self.outcome(entity, record, outcome, reason)
        return outcome

    def _same_version(self, entity: str, record: dict[str, Any], held: int) -> str:
        return self._conflict(
            entity,
            record,
            (self.provider, held),
            "same_version",
            f"The VRP already holds version {held} of this record with different content (was "
            "a backup restored?). Edit the record so it gets a new version, then send it again.",
        )

    def _conflict(self, entity, record, old, kind: str, detail: str) -> str:
        self.outcome(entity, record, "conflict", detail)
        keys = batch_schema.KEYS[entity]
        kept = batch_schema.plain({k: record[k] for k in keys if k in record})
        self.conn.exec_driver_sql(
            "INSERT INTO import_conflict (provider_id, batch_id, entity, record_id, held_version, "
            "offered_version, kind, detail, offered, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)",
            (
                self.provider,
                self.batch_id,
                entity,
                record["id"],
                old[1] if old is not None else None,
                record["version"],
                kind,
                detail,
                json.dumps(kept),
                utcnow().strftime("%Y-%m-%d %H:%M:%S.%f"),
            ),
        )
        if len(self.conflicts) < 1000:
            self.conflicts.append(
                {"entity": entity, "id": record["id"], "kind": kind, "detail": detail}
            )
        return "conflict"

    # -- tombstones -------------------------------------------------------------------------

    def tombstones(self, items: list[tuple[dict[str, Any], str]]) -> None:
        """Apply checked tombstones: remove held versions <= theirs, and what hangs off them."""
        conn, provider = self.conn, self.provider
        for record, _digest in items:
            entity, rid, version = record["entity"], record["entity_id"], record["version"]
            table = TABLE[entity]
            held = conn.exec_driver_sql(
                f"SELECT provider_id, version FROM {table} WHERE id = ?", (rid,)
            ).first()
            stone = conn.exec_driver_sql(
                "SELECT provider_id, version FROM imported_tombstone WHERE entity = ? AND "
                "record_id = ?",
                (entity, rid),
            ).first()
            if (held is not None and held[0] != provider) or (
                stone is not None and stone[0] != provider
            ):
                self._say("tombstone", record, "rejected",
                    "The record it deletes belongs to another provider.")  # fmt: skip
                continue
            if held is not None and held[1] <= version:
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", (rid,))
                self._cascade(entity, rid)
            if self.has_pending:
                conn.exec_driver_sql(
                    "DELETE FROM imported_pending WHERE provider_id = ? AND entity = ? AND "
                    "record_id = ? AND version <= ?",
                    (provider, entity, rid, version),
                )
            if stone is None or stone[1] < version:
                conn.exec_driver_sql(
                    "INSERT INTO imported_tombstone (entity, record_id, provider_id, "
                    "version, reason, batch_id, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (entity, record_id) DO UPDATE SET provider_id = "
                    "excluded.provider_id, version = excluded.version, reason = excluded.reason, "
                    "batch_id = excluded.batch_id, deleted_at = excluded.deleted_at",
                    (entity, rid, provider, version, record["reason"], self.batch_id,
                     _db_timestamp(record["deleted_at"])),
                )  # fmt: skip
            self.has_stones = True
            self._say("tombstone", record, "accepted")
        for cache in self._refs.values():
            cache.clear()

    def _cascade(self, entity: str, rid: str) -> None:
        """Remove what belongs to a deleted record (this provider's rows only)."""
        run = self.conn.exec_driver_sql
        args = (rid, self.provider)
        if entity == "participant":
            for table in ("imported_attendance", "imported_response", "imported_enrolment"):
                run(f"DELETE FROM {table} WHERE participant_id = ? AND provider_id = ?", args)
        elif entity == "intervention":
            run(
                "DELETE FROM imported_attendance WHERE session_id IN (SELECT id FROM "
                "imported_session WHERE intervention_id = ? AND provider_id = ?)",
                args,
            )
            run("DELETE FROM imported_session WHERE intervention_id = ? AND provider_id = ?", args)
            run(
                "DELETE FROM imported_response WHERE enrolment_id IN (SELECT id FROM "
                "imported_enrolment WHERE intervention_id = ? AND provider_id = ?)",
                args,
            )
            run(
                "DELETE FROM imported_enrolment WHERE intervention_id = ? AND provider_id = ?", args
            )
        elif entity == "enrolment":
            run("DELETE FROM imported_response WHERE enrolment_id = ? AND provider_id = ?", args)
        elif entity == "session":
            run("DELETE FROM imported_attendance WHERE session_id = ? AND provider_id = ?", args)

    # -- releasing what waited ----------------------------------------------------------------

    def release(self) -> int:
        """Apply pending records whose references have now arrived; returns how many.

        Per record, the highest version that can be applied is; newer ones keep waiting;
        versions at or below what is held, or deleted, go. Parents are released first.
        """
        if not self.has_pending:
            return 0
        for cache in self._refs.values():
            cache.clear()
        released = 0
        for entity in DEPENDENT:
            rows = self.conn.exec_driver_sql(
                "SELECT record_id, version, batch_id, content_sha256, record FROM "
                "imported_pending WHERE provider_id = ? AND entity = ? "
                "ORDER BY record_id, version DESC",
                (self.provider, entity),
            ).all()
            by_id: dict[str, list[tuple]] = {}
            for row in rows:
                by_id.setdefault(row[0], []).append(row)
            # try the newest waiting version of each record, then the next one down for
            # those still waiting, and so on
            depth = 0
            while by_id:
                round_items, dropped = [], []
                for rows_of in by_id.values():
                    rid, version, batch, digest, text = rows_of[depth]
                    record = json.loads(text) if isinstance(text, str) else dict(text)
                    if import_check.shape(entity, record):
                        dropped.append((self.provider, entity, rid, version))
                        continue
                    round_items.append((record, digest, batch))
                outcomes, words = self._released(entity, round_items)
                done = set()
                still: list[tuple] = []
                for (record, _d, _b), result in zip(round_items, outcomes, strict=True):
                    if result == "accepted":
                        released += 1
                        done.add(record["id"])
                    elif result == "pending":
                        # what it waits for now (an erasure may have settled part of it)
                        still.append(
                            (words.get(record["id"], ""), self.provider, entity, record["id"],
                             record["version"])
                        )  # fmt: skip
                    else:
                        dropped.append((self.provider, entity, record["id"], record["version"]))
                if still:
                    self.conn.exec_driver_sql(
                        "UPDATE imported_pending SET waiting_for = ? WHERE provider_id = ? AND "
                        "entity = ? AND record_id = ? AND version = ?",
                        still,
                    )
                if dropped:
                    self.conn.exec_driver_sql(
                        "DELETE FROM imported_pending WHERE provider_id = ? AND entity = ? AND "
                        "record_id = ? AND version = ?",
                        dropped,
                    )
                depth += 1
                by_id = {
                    rid: rows_of
                    for rid, rows_of in by_id.items()
                    if rid not in done and len(rows_of) > depth
                }
        self.released += released
        return released

    def _released(
        self, entity: str, items: list[tuple[dict[str, Any], str, str]]
    ) -> tuple[list[str], dict[str, str]]:
        """``offer`` for pending records: outcomes are not this batch's, so they are kept
        from the receipt (a record that fails its checks now is kept as a conflict); returns
        the outcomes and, for those still waiting, what they wait for."""
        words: dict[str, str] = {}

        def note(_entity: str, record: dict[str, Any], outcome: str, reason=None) -> None:
            if outcome == "pending":
                words[record["id"]] = reason or ""

        quiet = self.outcome, self.accepted
        self.outcome, self.accepted = note, _ignore
        try:
            results = []
            for part in _chunks(items, 2000):
                results.extend(self.offer(entity, part, release=True))
        finally:
            self.outcome, self.accepted = quiet
        return results, words


def _ignore(*_args: Any) -> None:
    return None
