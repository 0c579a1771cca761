"""The bulk path: many records validated by the same engine and written in one transaction.

Used by the demo generator, the spreadsheet importer and the benchmark. Context the per-record
services gather with SQL (enrolment on the session date, double-booking) is worked out here in
memory from the rows being written plus what the store already holds for those people.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select

from vrp_desktop import codes
from vrp_desktop.measures.scoring import score
from vrp_desktop.services import audit, search
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import findings_to_json, now, today
from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.store.engine import bulk_cache
from vrp_desktop.store.models import (
    Attendance,
    Enrolment,
    Intervention,
    OutcomeResponse,
    Participant,
    ParticipantSearchToken,
    Session,
    utcnow,
)
from vrp_desktop.validation.engine import (
    AttendeeContext,
    validate_enrolment,
    validate_participant,
    validate_response,
    validate_session,
)

Progress = Callable[[str, int, int], None]
_PRESENT = codes.PRESENT_STATUSES


def _state(findings) -> str:
    return "draft" if findings else "valid"


def _stamp(row: dict[str, Any], findings) -> dict[str, Any]:
    """Fill the columns the ORM defaults would fill, plus the validation outcome."""
    stamp = utcnow()
    row.setdefault("version", 1)
    row.setdefault("created_at", stamp)
    row.setdefault("updated_at", stamp)
    row["findings"] = findings_to_json(findings)
    row["sync_state"] = _state(findings)
    return row


def bulk_insert(
    ws,
    *,
    participants: Sequence[dict[str, Any]] = (),
    enrolments: Sequence[dict[str, Any]] = (),
    sessions: Sequence[dict[str, Any]] = (),
    attendances: Sequence[dict[str, Any]] = (),
    responses: Sequence[dict[str, Any]] = (),
    updates: Callable[[Any], dict[str, int]] | None = None,
    action: str = "bulk.insert",
    progress: Progress | None = None,
    chunk: int = 5000,
) -> dict[str, int]:
    """Validate and insert the given rows (each a dict of column values with an ``id``).

    ``updates``: changes to records already there, made first in the same transaction (it
    takes the session and returns counts for the audit event)."""
    ws.require("record")
    with ws.unit() as session, bulk_cache(session.connection()):
        writer = BulkWriter(ws, session, progress=progress, chunk=chunk)
        if updates is not None:
            writer.counts.update(updates(session))
        writer.add(
            participants=participants,
            enrolments=enrolments,
            sessions=sessions,
            attendances=attendances,
            responses=responses,
        )
        writer.finish(action)
    return writer.counts


class BulkWriter:
    """The bulk path inside one unit, fed in parts, so a caller can stream rows it makes
    (``vrp demo`` at a million sessions) without holding them all: one transaction, one audit
    event, memory bounded by the largest part.

    Each ``add`` validates and writes its rows as ``bulk_insert`` does. Context that spans parts
    is kept: enrolment spans (who is enrolled where, for the register check). Within a part,
    enrolments find their young person among that part's participants (or in the store), a
    questionnaire its enrolment among that part's enrolments, and double-booking is checked
    among that part's sessions, so a streaming caller keeps related rows in one part.
    """

    def __init__(self, ws, session, *, progress: Progress | None = None, chunk: int = 5000):
        self.ws = ws
        self.session = session
        self.chunk = chunk
        self.report = progress or (lambda *_: None)
        self.on, self.at = today(), now()
        self.linkage = ws.setting("linkage_key")
        interventions = {i.id: i for i in session.scalars(select(Intervention))}
        self.fw = {
            iid: fw_service.get(session, i.framework_id, i.framework_version)
            for iid, i in interventions.items()
        }
        self.spans: dict[tuple[str, str], list[tuple[dt.date, dt.date | None]]] = (
            collections.defaultdict(list)
        )
        #: every young person this writer has seen (added, or on a register and loaded once):
        #: their reference; their enrolments are in ``spans``
        self.references: dict[str, str] = {}
        self.counts = dict.fromkeys(
            ("participants", "enrolments", "sessions", "attendances", "responses"), 0
        )

    def finish(self, action: str) -> None:
        """The one audit event for everything added."""
        audit.append(
            self.session, self.ws.user.username, action, "workspace", None, after=self.counts
        )

    def add(
        self,
        *,
        participants: Sequence[dict[str, Any]] = (),
        enrolments: Sequence[dict[str, Any]] = (),
        sessions: Sequence[dict[str, Any]] = (),
        attendances: Sequence[dict[str, Any]] = (),
        responses: Sequence[dict[str, Any]] = (),
    ) -> None:
        session, chunk, report, fw = self.session, self.chunk, self.report, self.fw
        on, at, linkage = self.on, self.at, self.linkage
        people: dict[str, dict[str, Any]] = {}
        for row in participants:
            row.setdefault("consent_status", "not_asked")
            dob = row.get("date_of_birth")
            row["age_band"] = codes.age_band(dob, on) if dob else None
            row["pseudonym"] = pseudonym(linkage, row.get("first_name"), row.get("last_name"), dob)
            _stamp(row, validate_participant(row, today=on))
            people[row["id"]] = row
        _write(session, Participant, participants, chunk, report, "participants")
        tokens = [
            token
            for row in participants
            for token in search.token_rows(Participant(**_columns(Participant, row)))
        ]
        _write(session, ParticipantSearchToken, tokens, chunk * 4, report, "search index")

        spans = self.spans
        for row in enrolments:
            person = people.get(row["participant_id"]) or _load_person(
                session, row["participant_id"]
            )
            framework = fw[row["intervention_id"]]
            _stamp(row, validate_enrolment(row, participant=person, framework=framework, today=on))
            spans[(row["participant_id"], row["intervention_id"])].append(
                (row.get("start_date"), row.get("end_date"))
            )
        _write(session, Enrolment, enrolments, chunk, report, "enrolments")

        register: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for row in attendances:
            row.setdefault("status", "attended")
            register[row["session_id"]].append(row)
        self.references.update((pid, row.get("reference") or "") for pid, row in people.items())
        unseen = {a["participant_id"] for a in attendances} - self.references.keys()
        self.references.update(_existing_people(session, unseen, spans))
        references = self.references
        clashes = _clashes(sessions, register)
        for row in sessions:
            row.setdefault("status", "delivered")
            day = row["starts_at"].date()
            contexts = [
                AttendeeContext(
                    participant_id=a["participant_id"],
                    reference=references.get(a["participant_id"], ""),
                    status=a["status"],
                    enrolled=any(
                        start is not None and start <= day and (end is None or end >= day)
                        for start, end in spans.get(
                            (a["participant_id"], row["intervention_id"]), ()
                        )
                    ),
                    clashing_session_ids=clashes.get((row["id"], a["participant_id"]), []),
                )
                for a in register.get(row["id"], ())
            ]
            findings = validate_session(
                row, framework=fw[row["intervention_id"]], attendees=contexts, now=at
            )
            _stamp(row, findings)
            for a in register.get(row["id"], ()):
                _stamp(a, [])
                a["sync_state"] = row["sync_state"]
        _write(session, Session, sessions, chunk, report, "sessions")
        _write(session, Attendance, attendances, chunk * 2, report, "attendances")

        enrolment_rows = {row["id"]: row for row in enrolments}
        for row in responses:
            measure = fw_service.measure(row["measure_id"])
            result = score(measure, row["answers"])
            row.update(
                scores=dict(result.scores),
                bands=dict(result.bands),
                scoring_version=result.scoring_version,
            )
            enrolment = enrolment_rows.get(row.get("enrolment_id") or "") or _load_enrolment(
                session, row.get("enrolment_id")
            )
            framework = fw[enrolment["intervention_id"]] if enrolment else None
            findings = (
                validate_response(
                    row, measure=measure, framework=framework, enrolment=enrolment, today=on
                )
                if framework
                else []
            )
            _stamp(row, findings)
        _write(session, OutcomeResponse, responses, chunk, report, "questionnaires")

        for name, rows in (
            ("participants", participants),
            ("enrolments", enrolments),
            ("sessions", sessions),
            ("attendances", attendances),
            ("responses", responses),
        ):
            self.counts[name] += len(rows)


def _columns(model, row: dict[str, Any]) -> dict[str, Any]:
    names = model.__table__.columns.keys()
    return {k: v for k, v in row.items() if k in names}


def _write(
    session, model, rows: Sequence[dict[str, Any]], chunk: int, report: Progress, label: str
) -> None:
    table = model.__table__
    names = set(table.columns.keys())
    for start in range(0, len(rows), chunk):
        part = [{k: v for k, v in r.items() if k in names} for r in rows[start : start + chunk]]
        session.execute(insert(table), part)
        report(label, min(start + chunk, len(rows)), len(rows))


def _load_person(session, participant_id: str) -> dict[str, Any]:
    from vrp_desktop.services.participants import as_record

    p = session.get(Participant, participant_id)
    return as_record(p) if p else {}


def _existing_people(
    session, ids: set[str], spans: dict[tuple[str, str], list[tuple[dt.date, dt.date | None]]]
) -> dict[str, str]:
    """For people already in the store who are on a new register: add their stored
    enrolments to ``spans`` and return their references."""
    references: dict[str, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        for pid, iid, begin, end in session.execute(
            select(
                Enrolment.participant_id,
                Enrolment.intervention_id,
                Enrolment.start_date,
                Enrolment.end_date,
            ).where(Enrolment.participant_id.in_(part))
        ):
            spans[(pid, iid)].append((begin, end))
        references.update(
            session.execute(
                select(Participant.id, Participant.reference).where(Participant.id.in_(part))
            ).all()
        )
    return references


def _load_enrolment(session, enrolment_id: str | None) -> dict[str, Any] | None:
    if not enrolment_id:
        return None
    from vrp_desktop.services.enrolments import as_record

    e = session.get(Enrolment, enrolment_id)
    return as_record(e) if e is not None else None


def _clashes(
    sessions: Sequence[dict[str, Any]], register: dict[str, list[dict[str, Any]]]
) -> dict[tuple[str, str], list[str]]:
    """Pairs (session, person) where the person attended another overlapping session."""
    per_person: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = collections.defaultdict(
        list
    )
    for s in sessions:
        if s.get("status", "delivered") != "delivered":
            continue
        start = s["starts_at"]
        end = start + dt.timedelta(minutes=s.get("duration_minutes") or 0)
        for a in register.get(s["id"], ()):
            if a.get("status", "attended") in _PRESENT:
                per_person[a["participant_id"]].append((start, end, s["id"]))
    found: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for pid, spans in per_person.items():
        spans.sort()
        starts = [span[0] for span in spans]
        for start, end, sid in spans:
            hi = bisect.bisect_left(starts, end)
            for other_start, other_end, other_id in spans[max(0, hi - 8) : hi]:
                if other_id != sid and other_start < end and other_end > start:
                    found[(sid, pid)].append(other_id)
    return found
