"""One register row: a young person and an enrolment, new or already in the workspace.

A row is matched to someone already there by Reference, or by name and date of birth (their
pseudonym); then to their enrolment on the same intervention from the same start date. A match
is updated: blank cells keep what is stored, filled cells replace it, and every change is listed
for the preview. Every problem of a row is found at once and said in plain words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select

from vrp_desktop import codes
from vrp_desktop.ids import uuid7
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services import search
from vrp_desktop.services.common import bump, settle, today
from vrp_desktop.services.participants import as_record as participant_record
from vrp_desktop.services.pseudonyms import new_reference, pseudonym
from vrp_desktop.spreadsheets import cells
from vrp_desktop.spreadsheets.codelists import CodeMatcher, norm
from vrp_desktop.spreadsheets.template import COLUMNS, PERSON_KEYS
from vrp_desktop.store.models import Enrolment, Intervention, Participant
from vrp_desktop.validation.engine import validate_enrolment, validate_participant

_HEADER = {c.key: c.header for c in COLUMNS} | {
    "postcode_district": "Postcode",
    "measure_id": "Questionnaire",
    "completed_on": "Completed on",
    "answers": "Answers (Q1, Q2...)",
    "enrolment_id": "Enrolment",
}
_PERSON_FIELDS = tuple(k if k != "postcode" else "postcode_district" for k in PERSON_KEYS)
_ENROLMENT_FIELDS = (
    "referral_source",
    "referral_date",
    "start_date",
    "end_date",
    "exit_reason",
    "exit_detail",
)
#: fields shown in a preview only as "changed" (no personal data in what is printed or logged)
_IDENTITY = {
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "exit_detail",
}
_FIXED_CODES = {"gender": "gender", "ethnicity": "ethnicity", "consent_status": "consent"}


def header(field: str) -> str:
    """A field's column heading, or plain words for a field the sheet has no column for."""
    return _HEADER.get(field) or field.replace("_id", "").replace("_", " ").capitalize()


@dataclasses.dataclass
class Change:
    """What one good row does, for the preview."""

    row: int
    action: str  # "new", "update", "unchanged"
    what: str  # e.g. "new young person and enrolment", "update enrolment"
    fields: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    #: the sheet the row is on: "Register", "Sessions" or "Questionnaires"
    sheet: str = "Register"

    def message(self) -> str:
        where = "Row" if self.sheet == "Register" else f"{self.sheet} row"
        text = f"{where} {self.row}: {self.what}"
        if self.fields:
            text += ": " + "; ".join(f"{h} {a} → {b}" for h, a, b in self.fields)
        return text


@dataclasses.dataclass
class Plan:
    """What a good row writes."""

    change: Change
    new_person: dict[str, Any] | None = None
    person_update: tuple[str, dict[str, Any]] | None = None
    new_enrolment: dict[str, Any] | None = None
    enrolment_update: tuple[str, dict[str, Any]] | None = None
    warnings: int = 0
    session: dict[str, Any] | None = None
    attendances: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    response: dict[str, Any] | None = None


def _differs(typed: Any, stored: Any) -> bool:
    """Whether a typed value changes a stored one (text: ignoring capitals and spacing)."""
    if isinstance(typed, str) and isinstance(stored, str):
        return norm(typed) != norm(stored)
    return typed != stored


def _shown(field: str, value: Any, framework=None) -> str:
    """A value as the preview shows it: labels, not codes; identity fields only as changed."""
    if value is None or value == "":
        return "(blank)"
    if field in _IDENTITY:
        return "(changed)"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    fixed = {
        "gender": codes.GENDERS,
        "ethnicity": codes.ETHNICITIES,
        "consent_status": codes.CONSENT_STATUSES,
    }
    if field in fixed:
        return fixed[field].get(value, str(value))
    if framework is not None and field in ("referral_source", "exit_reason"):
        plural = "referral_sources" if field == "referral_source" else "exit_reasons"
        return framework.code_map(plural).get(value, str(value))
    return str(value)


class RegisterChecker:
    """Checks register rows against the workspace as it is when the check starts."""

    def __init__(self, ws, framework_hint: str | None, *, month_first: bool = False) -> None:
        self.ws = ws
        self.today = today()
        self.month_first = month_first
        self.linkage = ws.setting("linkage_key")
        self._session = ws.read()
        session = self._session
        self.interventions = list(
            session.scalars(select(Intervention).where(Intervention.active.is_(True)))
        )
        self.frameworks = {
            i.id: fw_service.get(session, i.framework_id, i.framework_version)
            for i in self.interventions
        }
        catalog = list(fw_service.builtin_catalog().frameworks())
        self.matcher = CodeMatcher([*catalog, *self.frameworks.values()])
        live = Participant.erased_at.is_(None)
        self.by_pseudonym: dict[str, str] = {}
        self.by_reference: dict[str, str] = {}
        for pid, key, ref in session.execute(
            select(Participant.id, Participant.pseudonym, Participant.reference).where(live)
        ):
            if key:
                self.by_pseudonym[key] = pid
            self.by_reference[norm(ref)] = pid
        self.references = set(session.scalars(select(Participant.reference)))
        self.enrolment_at: dict[tuple[str, str, dt.date], str] = {
            (pid, iid, start): eid
            for eid, pid, iid, start in session.execute(
                select(
                    Enrolment.id,
                    Enrolment.participant_id,
                    Enrolment.intervention_id,
                    Enrolment.start_date,
                )
            )
        }
        #: each person's enrolments as (intervention id, start date): an update row may leave
        #: the start date (and the intervention) blank when that picks out one of them
        self.enrolments_of: dict[str, list[tuple[str, dt.date]]] = {}
        for pid, iid, start in self.enrolment_at:
            self.enrolments_of.setdefault(pid, []).append((iid, start))
        self.by_name = {norm(i.name): i for i in self.interventions}
        default = [i for i in self.interventions if i.framework_id == framework_hint]
        self.default_intervention = default[0] if len(default) == 1 else None
        self.new_people: dict[str, str] = {}  # pseudonym -> new participant id
        self.refused_people: dict[str, int] = {}  # pseudonym -> their refused Register row
        #: participant id -> (first row that changes them, the changes)
        self.people_rows: dict[str, tuple[int, dict[str, Any]]] = {}
        self.slot_rows: dict[tuple[str, str, Any], int] = {}
        self.existing_used = 0

    def close(self) -> None:
        self._session.close()

    def _reference(self) -> str:
        while True:
            ref = new_reference()
            if ref not in self.references:
                self.references.add(ref)
                return ref

    # -- one row ------------------------------------------------------------------------------

    def check(self, row: int, raw: dict[str, Any]) -> Plan | list[str]:
        problems: list[str] = []
        failed: set[str] = set()  # fields whose cell could not be read (reported once)
        values: dict[str, Any] = {}
        for col in COLUMNS:
            cell = raw.get(col.key)
            if col.kind == "date":
                values[col.key] = None
                if cells.text(cell) is None:
                    continue
                try:
                    values[col.key] = cells.date(cell, self.month_first)
                except (ValueError, OverflowError):
                    failed.add(col.key)
                    order = "mm/dd/yyyy" if self.month_first else "dd/mm/yyyy"
                    problems.append(f"{col.header} is not a date: use {order}, e.g. 25/11/2026")
            else:
                values[col.key] = cells.text(cell)
        named = values.pop("intervention")
        intervention = self._intervention(named, problems)
        framework = self.frameworks.get(intervention.id) if intervention else None
        where = f"'{intervention.name}'" if intervention else "this intervention"
        for key, col in ((c.key, c) for c in COLUMNS if c.kind == "code"):
            if values[key] is None:
                continue
            code, problem = self.matcher.match(col.codes, values[key], col.header, framework, where)
            if problem:
                failed.add(key)
                problems.append(problem)
            values[key] = code
        postcode = values.pop("postcode")
        values["postcode_district"] = codes.postcode_district(postcode) if postcode else None
        if postcode and values["postcode_district"] is None:
            failed.add("postcode_district")
            problems.append("Postcode is not a UK postcode or postcode district")
        # -- who: someone already here, someone earlier in the sheet, or someone new
        pid, stored, earlier = self._person(values, problems, failed)
        person_only = False
        if stored is not None and values.get("start_date") is None and "start_date" not in failed:
            # someone already here, no start date: which of their enrolments the row means
            # (blank cells keep what is there), or only their own details when it says
            # nothing about an enrolment
            person_only, intervention = self._their_enrolment(
                pid, stored, named, intervention, values, problems
            )
            framework = self.frameworks.get(intervention.id) if intervention else None
        elif intervention is None and named is None and self.default_intervention is None:
            problems.append("Intervention is required: " + self._choices())
        if intervention is None:
            failed.update(("intervention_id",))
        person = dict(stored or {})
        person_changes: dict[str, Any] = {}
        for field in _PERSON_FIELDS:
            value = values.get(field)
            if stored is None:
                person[field] = value
            elif value is not None and field not in failed and _differs(value, stored.get(field)):
                person_changes[field] = value
                person[field] = value
        findings = validate_participant(person, today=self.today, framework=framework)

        # -- the enrolment: theirs already from this start date, or a new one
        enrolment_values = {f: values.get(f) for f in _ENROLMENT_FIELDS}
        enrolment: dict[str, Any] = dict(enrolment_values)
        enrolment_changes: dict[str, Any] = {}
        eid = None
        if person_only:
            pass
        elif intervention is not None and values.get("start_date") is not None:
            slot = (pid or "", intervention.id, values["start_date"])
            seen = self.slot_rows.get(slot)
            if pid is not None and seen is not None:
                problems.append(
                    f"Row {seen} already has this young person on this intervention from this "
                    "start date: keep one of the two rows"
                )
            eid = self.enrolment_at.get(slot) if pid else None
            if eid is not None:
                stored_enrolment = self._enrolment(eid)
                enrolment = dict(stored_enrolment)
                for field, value in enrolment_values.items():
                    if (
                        value is not None
                        and field not in failed
                        and _differs(value, enrolment.get(field))
                    ):
                        enrolment_changes[field] = value
                        enrolment[field] = value
        enrolment.update(
            participant_id=pid or "pending",
            intervention_id=intervention.id if intervention else None,
        )
        if framework is not None and not person_only:
            findings += validate_enrolment(
                enrolment, participant=person, framework=framework, today=self.today
            )
        for finding in findings:
            if finding.severity != "error" or finding.field in failed:
                continue
            if finding.field in ("participant_id", "intervention_id"):
                continue
            problems.append(f"{header(finding.field)}: {finding.message}")
        if problems:
            who = [values.get(k) for k in ("first_name", "last_name", "date_of_birth")]
            if pid is None and all(v is not None for v in who):
                # the other sheets' rows about them then say why they are not found
                self.refused_people.setdefault(pseudonym(self.linkage, *who), row)
            return list(dict.fromkeys(problems))
        return self._plan(
            row, pid, stored, earlier, person, person_changes, eid, enrolment, enrolment_changes,
            None if person_only else intervention, sum(f.severity == "warning" for f in findings),
        )  # fmt: skip

    def _their_enrolment(self, pid, stored, named, intervention, values, problems):
        """For a row about someone already here with no start date: (only their own details,
        the intervention of the one enrolment the row means). That enrolment's start date is
        put in ``values``, so the row then updates it as if it had been typed."""
        about_enrolment = any(
            values.get(f) is not None for f in _ENROLMENT_FIELDS if f != "start_date"
        )
        if intervention is None and named is not None:
            return False, None  # a name not known here: already reported
        if not about_enrolment and (named is None or intervention is None):
            return True, None
        theirs = self.enrolments_of.get(pid, [])
        if intervention is not None:
            theirs = [e for e in theirs if e[0] == intervention.id]
        if len(theirs) == 1:
            iid, values["start_date"] = theirs[0]
            return False, next(i for i in self.interventions if i.id == iid)
        ref = stored.get("reference")
        on = f" on '{intervention.name}'" if intervention is not None else ""
        if not theirs and intervention is not None:
            return False, intervention  # a new enrolment: its start date is asked for below
        if not theirs:
            problems.append(
                f"{ref} has no enrolment to change: for a new one, give the Intervention and "
                "its Start date"
            )
        else:
            problems.append(
                f"{ref} has {len(theirs)} enrolments{on}: give the Start date (and the "
                "Intervention) of the one to change"
            )
        return False, intervention

    def _plan(
        self, row, pid, stored, earlier, person, person_changes, eid, enrolment,
        enrolment_changes, intervention, warnings,
    ) -> Plan | list[str]:  # fmt: skip
        plan = Plan(Change(row, "unchanged", "no change (already in VRP Desktop)"))
        plan.warnings = warnings
        if earlier:
            pass  # added by an earlier row of this sheet
        elif stored is None:
            key = pseudonym(
                self.linkage, person["first_name"], person["last_name"], person["date_of_birth"]
            )
            pid = uuid7()
            self.new_people[key] = pid
            plan.new_person = {
                **{f: person.get(f) for f in _PERSON_FIELDS},
                "id": pid,
                "reference": self._reference(),
            }
        elif person_changes:
            earlier = self.people_rows.get(pid)
            if earlier is None:
                self.people_rows[pid] = (row, person_changes)
                plan.person_update = (pid, person_changes)
            elif earlier[1] != person_changes:
                return [
                    f"Row {earlier[0]} changes this young person's details differently: make "
                    "their details the same in both rows"
                ]
            else:
                person_changes = {}  # the same change, made once by the earlier row
        if intervention is None:  # only their own details (``_their_enrolment``)
            pass
        elif eid is None:
            self.slot_rows[(pid, intervention.id, enrolment["start_date"])] = row
            plan.new_enrolment = {
                **{f: enrolment.get(f) for f in _ENROLMENT_FIELDS},
                "id": uuid7(),
                "participant_id": pid,
                "intervention_id": intervention.id,
            }
            self.enrolment_at[(pid, intervention.id, enrolment["start_date"])] = plan.new_enrolment[
                "id"
            ]
            self.enrolments_of.setdefault(pid, []).append(
                (intervention.id, enrolment["start_date"])
            )
        else:
            self.slot_rows[(pid, intervention.id, enrolment["start_date"])] = row
            if enrolment_changes:
                plan.enrolment_update = (eid, enrolment_changes)
        if stored is not None and (plan.person_update or plan.new_enrolment):
            self.existing_used += 1
        change = plan.change
        if plan.new_person:
            change.action, change.what = "new", "new young person and enrolment"
        elif earlier:
            change.action, change.what = "new", "new enrolment (for a young person added above)"
        else:
            parts = []
            if plan.person_update:
                parts.append("update young person")
                change.fields += [
                    (header(f), _shown(f, stored.get(f)), _shown(f, v))
                    for f, v in person_changes.items()
                ]
            if plan.new_enrolment:
                parts.append("new enrolment")
            elif plan.enrolment_update:
                parts.append("update enrolment")
                before = self._enrolment(eid)
                fw = self.frameworks.get(intervention.id)
                change.fields += [
                    (header(f), _shown(f, before.get(f), fw), _shown(f, v, fw))
                    for f, v in enrolment_changes.items()
                ]
            if parts:
                change.action = "new" if parts == ["new enrolment"] else "update"
                change.what = " and ".join(parts) + f" ({stored.get('reference')})"
        return plan

    def _person(self, values, problems, failed) -> tuple[str | None, dict[str, Any] | None, bool]:
        """(participant id or None for someone new, their stored record or None, whether an
        earlier row of this sheet adds them)."""
        ref = values.pop("reference", None)
        if ref is not None:
            pid = self.by_reference.get(norm(ref))
            if pid is None:
                failed.add("reference")
                problems.append(
                    f"Reference '{ref}' is not anyone in this workspace: check it, or leave it "
                    "blank for someone new"
                )
                return None, None, False
            return pid, self._participant(pid), False
        first, last, born = values.get("first_name"), values.get("last_name"), None
        born = values.get("date_of_birth")
        if first is None or last is None or born is None:
            return None, None, False
        key = pseudonym(self.linkage, first, last, born)
        if key in self.new_people:
            return self.new_people[key], None, True
        pid = self.by_pseudonym.get(key)
        return (pid, self._participant(pid), False) if pid else (None, None, False)

    def _participant(self, pid: str) -> dict[str, Any]:
        p = self._session.get(Participant, pid)
        return {**participant_record(p), "reference": p.reference}

    def _enrolment(self, eid: str) -> dict[str, Any]:
        from vrp_desktop.services.enrolments import as_record

        e = self._session.get(Enrolment, eid)
        if e is None:  # added earlier in this sheet
            return {}
        return as_record(e)

    def _intervention(self, name: str | None, problems: list[str]):
        """The intervention a row names, or the workspace's only one of the template's
        framework; None when blank (``check`` says whether the row needed one)."""
        if name is None:
            return self.default_intervention
        found = self.by_name.get(norm(name))
        if found is None:
            problems.append(
                f"Intervention '{name}' is not one of this workspace's: " + self._choices()
            )
        return found

    def _choices(self) -> str:
        return ", ".join(sorted(i.name for i in self.interventions)) or "(none set up yet)"


def apply_updates(ws, plans: list[Plan]):
    """A function for ``bulk_insert`` that writes the plans' updates in its transaction."""

    def run(session) -> dict[str, int]:
        on, linkage = today(), ws.setting("linkage_key")
        people = enrolments = 0
        for plan in plans:
            if plan.person_update:
                pid, changes = plan.person_update
                p = session.get(Participant, pid)
                for field, value in changes.items():
                    setattr(p, field, value)
                p.age_band = codes.age_band(p.date_of_birth, on) if p.date_of_birth else None
                p.pseudonym = pseudonym(linkage, p.first_name, p.last_name, p.date_of_birth)
                bump(p)
                settle(p, validate_participant(participant_record(p), today=on), None)
                search.reindex(session, p)
                people += 1
            if plan.enrolment_update:
                from vrp_desktop.services.enrolments import _validate

                eid, changes = plan.enrolment_update
                e = session.get(Enrolment, eid)
                for field, value in changes.items():
                    setattr(e, field, value)
                bump(e)
                session.flush()
                _validate(session, e, None)
                enrolments += 1
        session.flush()
        return {"participants_updated": people, "enrolments_updated": enrolments}

    return run
