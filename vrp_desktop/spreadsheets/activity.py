"""Sessions, their registers and questionnaire responses from the same workbook as the register.

The Sessions sheet gives each session a label of the provider's choosing (S1, S2...); the
Attendance sheet puts people on a session's register by that label. People are found by
Reference, or by name and date of birth: already in the workspace, or added by the Register
sheet of the same file. A session is checked with its whole register, by the same validation
engine as one typed in the window (everyone on it enrolled on the day, statuses, duration);
if it cannot be imported, neither can its register lines, and each says why.

A session already in the workspace (same intervention, date and time) is not added again: its
rows, and the register lines that point at it, are reported as changing nothing. One that
overlaps a session of the same intervention with the same people, in the workspace or earlier
in the file (the session form's duplicate rule), is refused with the session it looks like.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from vrp_desktop import codes
from vrp_desktop.ids import uuid7
from vrp_desktop.measures.scoring import check_answers, score
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services import sessions as sessions_service
from vrp_desktop.services.pseudonyms import pseudonym
from vrp_desktop.spreadsheets import cells
from vrp_desktop.spreadsheets.codelists import norm
from vrp_desktop.spreadsheets.register import Change, Plan, RegisterChecker, header
from vrp_desktop.store.models import Enrolment, OutcomeResponse, Session
from vrp_desktop.validation.engine import AttendeeContext, validate_response, validate_session

_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})(?::\d{2})?\s*$")
_SESSION_HEADERS = {
    "session_type": "Session type",
    "location_type": "Location type",
    "duration_minutes": "Duration (minutes)",
    "starts_at": "Date and start time",
    "intervention_id": "Intervention",
}


def _who(shared: int) -> str:
    if not shared:
        return "no one marked as attending on either"
    return f"{shared} of the same young {'person' if shared == 1 else 'people'}"


def _occasion(item: SessionRow) -> tuple[dt.datetime, int | None, set[str]]:
    present = {
        line["participant_id"]
        for _, line in item.register
        if line["status"] in codes.PRESENT_STATUSES
    }
    return item.record["starts_at"], item.record["duration_minutes"], present


@dataclasses.dataclass
class SessionRow:
    row: int
    record: dict[str, Any]
    existing: bool
    register: list[tuple[int, dict[str, Any]]] = dataclasses.field(default_factory=list)


class ActivityChecker:
    """Checks Sessions, Attendance and Questionnaires rows after the register's."""

    def __init__(self, register: RegisterChecker, plans: list[Plan]) -> None:
        self.reg = register
        self.session = register._session
        self.sessions: dict[str, SessionRow] = {}
        self.labels_seen: dict[str, int] = {}
        self.existing_sessions = {
            (iid, starts): sid
            for sid, iid, starts in self.session.execute(
                select(Session.id, Session.intervention_id, Session.starts_at)
            )
        }
        self.references: dict[str, str] = {
            p.new_person["id"]: p.new_person["reference"] for p in plans if p.new_person
        }
        #: (participant, intervention) -> [(enrolment id, start, end)]
        self.spans: dict[tuple[str, str], list[tuple[str, dt.date, dt.date | None]]] = {}
        for eid, pid, iid, start, end in self.session.execute(
            select(
                Enrolment.id,
                Enrolment.participant_id,
                Enrolment.intervention_id,
                Enrolment.start_date,
                Enrolment.end_date,
            )
        ):
            self.spans.setdefault((pid, iid), []).append((eid, start, end))
        self.new_enrolments: dict[str, dict[str, Any]] = {}
        for plan in plans:
            e = plan.new_enrolment
            if e:
                self.spans.setdefault((e["participant_id"], e["intervention_id"]), []).append(
                    (e["id"], e["start_date"], e["end_date"])
                )
                self.new_enrolments[e["id"]] = e
        for plan in plans:  # an end date the same import gives an existing enrolment
            if plan.enrolment_update and "end_date" in plan.enrolment_update[1]:
                eid, changes = plan.enrolment_update
                for spans in self.spans.values():
                    for k, (sid, start, _end) in enumerate(spans):
                        if sid == eid:
                            spans[k] = (sid, start, changes["end_date"])
        self.response_keys: set[tuple[str, str, str, dt.date]] = {
            tuple(r)
            for r in self.session.execute(
                select(
                    OutcomeResponse.participant_id,
                    OutcomeResponse.measure_id,
                    OutcomeResponse.timepoint,
                    OutcomeResponse.completed_on,
                )
            )
        }

    # -- shared -------------------------------------------------------------------------------

    def _values(self, columns, raw, problems) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for col in columns:
            cell = raw.get(col.key)
            if col.kind == "date":
                values[col.key] = None
                if cells.text(cell) is not None:
                    try:
                        values[col.key] = cells.date(cell, self.reg.month_first)
                    except (ValueError, OverflowError):
                        problems.append(f"{col.header} is not a date: use dd/mm/yyyy")
            elif isinstance(cell, (dt.time, dt.datetime)):
                values[col.key] = cell
            else:
                values[col.key] = cells.text(cell)
            if col.required and cells.text(cell) is None:
                problems.append(f"{col.header} is required")
        return values

    def _who(self, values, problems) -> str | None:
        """The participant a row is about, or None (with the reason in ``problems``)."""
        ref = values.get("reference")
        if ref is not None:
            pid = self.reg.by_reference.get(norm(ref))
            if pid is None:
                problems.append(f"Reference '{ref}' is not anyone in this workspace")
            return pid
        first, last, born = (values.get(k) for k in ("first_name", "last_name", "date_of_birth"))
        if first is None or last is None or born is None:
            problems.append(
                "Say who this is: their Reference, or First name, Last name and Date of birth"
            )
            return None
        key = pseudonym(self.reg.linkage, first, last, born)
        pid = self.reg.new_people.get(key) or self.reg.by_pseudonym.get(key)
        refused = self.reg.refused_people.get(key)
        if pid is None and refused is not None:
            problems.append(
                f"Their row on the Register sheet (row {refused}) was not imported: fix it there "
                "and this row goes in with it"
            )
        elif pid is None:
            problems.append(
                "Nobody with this name and date of birth is in this workspace or on the "
                "Register sheet: add them there first"
            )
        return pid

    def _intervention(self, name, problems):
        if name is None:
            return None
        found = self.reg.by_name.get(norm(name))
        if found is None:
            problems.append(
                f"Intervention '{name}' is not one of this workspace's: " + self.reg._choices()
            )
        return found

    def _code(self, listname, value, head, framework, where, problems) -> str | None:
        if value is None:
            return None
        code, problem = self.reg.matcher.match(listname, value, head, framework, where)
        if problem:
            problems.append(problem)
        return code

    # -- sessions -----------------------------------------------------------------------------

    def session_row(self, number: int, raw: dict[str, Any], columns) -> list[str] | None:
        problems: list[str] = []
        v = self._values(columns, raw, problems)
        label = v.get("session")
        if label is not None:
            seen = self.labels_seen.get(norm(label))
            if seen is not None:
                problems.append(f"Session label '{label}' is also on row {seen}: make it unique")
            else:
                self.labels_seen[norm(label)] = number
        intervention = self._intervention(v.get("intervention"), problems)
        framework = self.reg.frameworks.get(intervention.id) if intervention else None
        where = f"'{intervention.name}'" if intervention else "this intervention"
        starts = None
        time_cell = v.get("start_time")
        if isinstance(time_cell, dt.datetime):
            time_cell = time_cell.time()
        if isinstance(time_cell, dt.time):
            clock = time_cell
        elif time_cell is not None and _TIME.match(time_cell):
            h, m = (int(x) for x in _TIME.match(time_cell).groups())
            clock = dt.time(h, m) if h < 24 and m < 60 else None
        else:
            clock = None
        if time_cell is not None and clock is None:
            problems.append("Start time is not a time: use hh:mm, e.g. 18:30")
        if v.get("date") and clock is not None:
            starts = dt.datetime.combine(v["date"], clock)
        duration = v.get("duration_minutes")
        try:
            duration = int(float(duration)) if duration is not None else None
        except ValueError:
            problems.append("Duration (minutes) is not a number")
            duration = None
        record = {
            "id": uuid7(),
            "intervention_id": intervention.id if intervention else None,
            "starts_at": starts,
            "duration_minutes": duration,
            "session_type": self._code(
                "session_type", v.get("session_type"), "Session type", framework, where, problems
            ),
            "mode": self._code("mode", v.get("mode"), "Mode", framework, where, problems),
            "location_type": self._code(
                "location", v.get("location_type"), "Location type", framework, where, problems
            ),
            "activities": [
                self._code("activity", a.strip(), "Activities", framework, where, problems)
                for a in re.split(r"[;\n]", v.get("activities") or "")
                if a.strip()
            ],
            "status": self._code(
                "session_status", v.get("status"), "Status", framework, where, problems
            )
            or "delivered",
            "notes": v.get("notes"),
            "staff": [],
        }
        if problems:
            return list(dict.fromkeys(problems))
        existing = (record["intervention_id"], starts) in self.existing_sessions
        self.sessions[norm(label)] = SessionRow(number, record, existing)
        return None

    def attendance_row(self, number: int, raw: dict[str, Any], columns) -> list[str] | None:
        problems: list[str] = []
        v = self._values(columns, raw, problems)
        label = v.get("session")
        target = self.sessions.get(norm(label)) if label is not None else None
        if label is not None and target is None:
            row = self.labels_seen.get(norm(label))
            problems.append(
                f"Session '{label}' "
                + (
                    f"could not be imported (Sessions row {row})"
                    if row
                    else "is not on the Sessions sheet"
                )
            )
        pid = self._who(v, problems)
        status = self._code("attendance", v.get("status"), "Attendance", None, "", problems)
        if problems:
            return list(dict.fromkeys(problems))
        target.register.append((number, {"participant_id": pid, "status": status}))
        return None

    def finish_sessions(self) -> tuple[list[Plan], dict[int, list[str]], dict[int, list[str]]]:
        """Each session checked with its register: (plans, bad session rows, bad register
        rows)."""
        plans: list[Plan] = []
        bad_sessions: dict[int, list[str]] = {}
        bad_lines: dict[int, list[str]] = {}
        now = dt.datetime.now()
        #: sessions of this file that will be imported: (row, intervention, occasion)
        planned: list[tuple[int, str, sessions_service.Occasion]] = []
        for item in self.sessions.values():
            record = item.record
            if item.existing:
                change = Change(
                    item.row, "unchanged", "session already in VRP Desktop", sheet="Sessions"
                )
                plans.append(Plan(change))
                continue
            framework = self.reg.frameworks[record["intervention_id"]]
            day = record["starts_at"].date()
            contexts = []
            for _, line in item.register:
                pid = line["participant_id"]
                spans = self.spans.get((pid, record["intervention_id"]), [])
                contexts.append(
                    AttendeeContext(
                        participant_id=pid,
                        reference=self._reference(pid),
                        status=line["status"],
                        enrolled=any(
                            s <= day and (e is None or e >= day) for _, s, e in spans if s
                        ),
                        clashing_session_ids=[],
                    )
                )
            findings = validate_session(record, framework=framework, attendees=contexts, now=now)
            errors = [
                f"{_SESSION_HEADERS.get(f.field) or header(f.field)}: {f.message}"
                if f.field != "attendees"
                else f.message
                for f in findings
                if f.severity == "error"
            ]
            if not errors:
                errors = self._double_booked(item, planned)
            if errors:
                bad_sessions[item.row] = list(dict.fromkeys(errors))
                for number, _ in item.register:
                    bad_lines[number] = [f"its session (Sessions row {item.row}) has problems"]
                continue
            plan = Plan(
                Change(
                    item.row,
                    "new",
                    f"new session on {record['starts_at']:%d/%m/%Y %H:%M} with "
                    f"{len(item.register)} on the register",
                    sheet="Sessions",
                )
            )
            planned.append((item.row, record["intervention_id"], _occasion(item)))
            plan.warnings = sum(f.severity == "warning" for f in findings)
            plan.session = record
            plan.attendances = [
                {"id": uuid7(), "session_id": record["id"], **line} for _, line in item.register
            ]
            plans.append(plan)
        return plans, bad_sessions, bad_lines

    def _double_booked(self, item: SessionRow, planned) -> list[str]:
        """The session form's duplicate rule (``services.sessions``): a session of the same
        intervention at an overlapping time with the same people, already in the workspace or
        earlier in this file. A cancelled session is never a duplicate."""
        record = item.record
        if record["status"] == "cancelled":
            return []
        occasion = _occasion(item)
        start, minutes, present = occasion
        found = []
        for other in sessions_service.duplicates_in(
            self.session, record["intervention_id"], start, minutes, sorted(present)
        ):
            found.append(
                f"This looks like a session already in VRP Desktop: "
                f"{other['starts_at']:%a %d/%m/%Y %H:%M} for {other['duration_minutes'] or 0} "
                f"minutes, same intervention, overlapping this one's time, with "
                f"{_who(other['shared'])}. Not imported: correct the date or start time, or "
                "remove the row; if both sessions really happened, log this one in the window "
                "and say why"
            )
        for row, intervention_id, other in planned:
            if intervention_id == record["intervention_id"] and sessions_service.same_session(
                occasion, other
            ):
                found.append(
                    f"This looks like the session on Sessions row {row}: same intervention, "
                    f"overlapping time, with {_who(len(present & other[2]))}. Not imported: "
                    "keep one row per session"
                )
        return found

    def _reference(self, pid: str) -> str:
        if pid in self.references:
            return self.references[pid]
        from vrp_desktop.store.models import Participant

        p = self.session.get(Participant, pid)
        self.references[pid] = p.reference if p else ""
        return self.references[pid]

    # -- questionnaires -----------------------------------------------------------------------

    def response_row(self, number: int, raw: dict[str, Any], columns) -> Plan | list[str]:
        problems: list[str] = []
        v = self._values(columns, raw, problems)
        pid = self._who(v, problems)
        intervention = self._intervention(v.get("intervention"), problems)
        framework = self.reg.frameworks.get(intervention.id) if intervention else None
        measure_id = self._code("measure", v.get("measure"), "Questionnaire", None, "", problems)
        timepoint = self._code("timepoint", v.get("timepoint"), "Timepoint", None, "", problems)
        if measure_id is None or problems:
            return list(dict.fromkeys(problems))
        measure = fw_service.measure(measure_id)
        answers: list[int | None] = []
        by_label = {norm(o.label): o.value for o in measure.response_options}
        for n in range(1, len(measure.items) + 1):
            cell = cells.text(raw.get(f"q{n}"))
            if cell is None:
                answers.append(None)
            elif norm(cell) in by_label:
                answers.append(by_label[norm(cell)])
            else:
                try:
                    answers.append(int(float(cell)))
                except ValueError:
                    problems.append(f"Q{n} '{cell}' is not one of the answers")
                    answers.append(None)
        extra = [
            n
            for n in range(len(measure.items) + 1, 100)
            if cells.text(raw.get(f"q{n}")) is not None
        ]
        if extra:
            problems.append(
                f"{measure.name} has {len(measure.items)} questions, but Q{extra[0]} is filled in"
            )
        if not problems:
            try:
                check_answers(measure, answers)
            except ValueError as exc:
                problems.append(str(exc))
        completed = v.get("completed_on")
        spans = self.spans.get((pid, intervention.id), []) if intervention else []
        started = [s for s in spans if s[1] and completed and s[1] <= completed + dt.timedelta(60)]
        if intervention is not None and not spans:
            problems.append(f"This young person is not enrolled on '{intervention.name}'")
        if problems:
            return list(dict.fromkeys(problems))
        eid, _start, _end = max(started or spans, key=lambda s: s[1] or dt.date.min)
        enrolment = self.new_enrolments.get(eid)
        if enrolment is None:
            from vrp_desktop.services.enrolments import as_record

            enrolment = as_record(self.session.get(Enrolment, eid))
        result = score(measure, answers)
        record = {
            "id": uuid7(),
            "participant_id": pid,
            "enrolment_id": eid,
            "measure_id": measure_id,
            "timepoint": timepoint,
            "completed_on": completed,
            "answers": answers,
        }
        findings = validate_response(
            record,
            measure=measure,
            framework=framework,
            enrolment=enrolment,
            today=self.reg.today,
            scored=result,
        )
        errors = [f"{header(f.field)}: {f.message}" for f in findings if f.severity == "error"]
        if errors:
            return errors
        key = (pid, measure_id, timepoint, completed)
        if key in self.response_keys:
            return Plan(
                Change(
                    number,
                    "unchanged",
                    "questionnaire already in VRP Desktop",
                    sheet="Questionnaires",
                )
            )
        self.response_keys.add(key)
        plan = Plan(
            Change(number, "new", f"new {codes.TIMEPOINTS.get(timepoint, timepoint)} "
                   f"{measure.name} questionnaire", sheet="Questionnaires")
        )  # fmt: skip
        plan.warnings = sum(f.severity == "warning" for f in findings)
        plan.response = record
        return plan
