"""The one validation engine: the entry form, batch builder and both importers call these.

Functions are pure: records are plain mappings, the caller supplies the framework, the measure,
the register context and the clock, so the same answer comes back everywhere and in tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from vrp_desktop import clock, codes
from vrp_desktop.frameworks.models import DateOrderRule, Framework, MeasureDefinition
from vrp_desktop.measures.scoring import ScoreResult, score, unscored
from vrp_desktop.validation import rules
from vrp_desktop.validation.findings import Finding, error, warning
from vrp_desktop.validation.rules import Record, date_value, is_blank

#: fields the engine needs whatever the framework says
BASE_REQUIRED: dict[str, tuple[str, ...]] = {
    "participant": (
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "ethnicity",
        "consent_status",
    ),
    "enrolment": ("participant_id", "intervention_id", "referral_source", "start_date"),
    "session": ("intervention_id", "starts_at", "duration_minutes", "session_type", "status"),
    "attendance": ("participant_id", "status"),
    "response": ("participant_id", "measure_id", "timepoint", "completed_on", "answers"),
}


class AttendeeContext(NamedTuple):
    """One line of a session's register, with what the store knows about that person then.

    A named tuple, not a dataclass: a batch import builds one per register line, millions of
    them, and a tuple is several times cheaper to make.
    """

    participant_id: str
    reference: str
    status: str | None
    enrolled: bool
    clashing_session_ids: Sequence[str] = ()


class _Plan:
    """What the engine derives from one framework, worked out once per framework object.

    Definitions are frozen, so nothing here goes stale. Validation runs for every record of a
    batch, and rebuilding code sets, required lists and rule lists per record was a large
    share of an import.
    """

    def __init__(self, framework: Framework | None) -> None:
        self.framework = framework
        self.codes: dict[str, frozenset[str]] = {}
        self.required = {
            kind: tuple(
                dict.fromkeys([*base, *(getattr(framework.required, kind) if framework else [])])
            )
            for kind, base in BASE_REQUIRED.items()
        }
        self.rules = {
            kind: tuple(framework.rules_for(kind)) if framework else () for kind in BASE_REQUIRED
        }

    def code_set(self, name: str) -> frozenset[str]:
        found = self.codes.get(name)
        if found is None:
            assert self.framework is not None
            found = self.codes[name] = frozenset(self.framework.code_map(name))
        return found


_PLANS: dict[int, _Plan] = {}
_NO_FRAMEWORK = _Plan(None)


def _plan(framework: Framework | None) -> _Plan:
    """The plan for ``framework``; keyed by identity, and the entry keeps the framework alive
    so its ``id`` cannot be reused while cached."""
    if framework is None:
        return _NO_FRAMEWORK
    plan = _PLANS.get(id(framework))
    if plan is None or plan.framework is not framework:
        if len(_PLANS) > 64:
            _PLANS.clear()
        plan = _PLANS[id(framework)] = _Plan(framework)
    return plan


def _code_map(framework: Framework, name: str) -> frozenset[str]:
    return _plan(framework).code_set(name)


def _required(kind: str, framework: Framework | None) -> tuple[str, ...]:
    return _plan(framework).required[kind]


def _declared_rules(kind: str, framework: Framework, record: Record) -> list[Finding]:
    findings: list[Finding] = []
    for rule in _plan(framework).rules[kind]:
        if isinstance(rule, DateOrderRule):
            findings += rules.check_date_order(rule, record)
        else:
            findings += rules.check_required_if(rule, record)
    return findings


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One message per field and rule is enough (a field can be required twice over).

    Register findings name a different young person each, so those are all kept.
    """
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for finding in findings:
        per_person = finding.message if finding.field == "attendees" else ""
        key = (finding.field, finding.rule, per_person)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _when(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- intervention ----------------------------------------------------------------------------


def validate_intervention(i: Record, *, framework: Framework) -> list[Finding]:
    """A provider's programme: a name, and a tier and setting its framework offers."""
    findings = rules.check_required(i, ("name", "tier", "setting"))
    findings += rules.check_code(i, "tier", framework.tier, "a tier this framework offers")
    findings += rules.check_code(
        i, "setting", _code_map(framework, "settings"), "a setting this framework offers"
    )
    return findings


# --- participant -----------------------------------------------------------------------------


def validate_participant(
    p: Record, *, today: date, framework: Framework | None = None
) -> list[Finding]:
    """Identity, demographics and consent; the framework may require more fields."""
    findings = rules.check_required(p, _required("participant", framework))
    findings += rules.check_date_type(p, ("date_of_birth", "consent_date"))
    findings += rules.check_not_future(p, ("date_of_birth", "consent_date"), today)
    findings += rules.check_code(p, "gender", codes.GENDERS, "a gender")
    findings += rules.check_code(p, "ethnicity", codes.ETHNICITIES, "an ethnicity")
    findings += rules.check_code(p, "consent_status", codes.CONSENT_STATUSES, "a consent status")
    if p.get("consent_status") == "given" and is_blank(p.get("consent_date")):
        findings.append(error("consent_date", "Enter the date consent was given.", "consent"))
    district = p.get("postcode_district")
    if not is_blank(district):
        if codes.is_full_postcode(district):
            findings.append(
                error(
                    "postcode_district",
                    "Enter only the first part of the postcode (for example B5), not all of it.",
                    "format",
                )
            )
        elif codes.postcode_district(district) is None:
            findings.append(
                error(
                    "postcode_district",
                    "This isn't a UK postcode district. Enter the first part of the postcode, "
                    "for example SW1A or B5.",
                    "format",
                )
            )
    return _dedupe(findings)


# --- enrolment -------------------------------------------------------------------------------


def validate_enrolment(
    e: Record, *, participant: Record | None, framework: Framework, today: date
) -> list[Finding]:
    """Referral, dates, exit and whether the young person is the right age for the framework."""
    findings = rules.check_required(e, _required("enrolment", framework))
    date_fields = ("referral_date", "start_date", "end_date")
    findings += rules.check_date_type(e, date_fields)
    findings += rules.check_code(
        e, "referral_source", _code_map(framework, "referral_sources"), "a referral source"
    )
    findings += rules.check_code(
        e, "exit_reason", _code_map(framework, "exit_reasons"), "an exit reason"
    )
    findings += _declared_rules("enrolment", framework, e)
    findings += rules.check_not_future(e, date_fields, today)
    findings += _age_eligibility(e, participant, framework)
    return _dedupe(findings)


def _age_eligibility(e: Record, participant: Record | None, framework: Framework) -> list[Finding]:
    start = date_value(e, "start_date")
    dob = date_value(participant, "date_of_birth") if participant is not None else None
    if start is None or dob is None:
        return []
    if start < dob:
        return [
            error("start_date", "The start date is before the young person was born.", "date_order")
        ]
    age = codes.age_on(dob, start)
    ages = framework.eligible_ages
    if age in ages:
        return []
    return [
        error(
            "start_date",
            f"On the start date this young person was {age}, but {framework.name} is for "
            f"ages {ages.min} to {ages.max}.",
            "age_eligibility",
        )
    ]


# --- session ---------------------------------------------------------------------------------


def validate_session(
    s: Record,
    *,
    framework: Framework,
    attendees: Sequence[AttendeeContext],
    now: datetime,
) -> list[Finding]:
    """What was delivered, where and for how long, and whether the register makes sense."""
    findings = rules.check_required(s, _required("session", framework))
    findings += rules.check_code(
        s, "session_type", framework.session_types, "a session type used by this framework"
    )
    findings += rules.check_code(s, "mode", framework.modes, "a way of delivering the session")
    findings += rules.check_code(
        s, "location_type", _code_map(framework, "location_types"), "a location type"
    )
    findings += rules.check_codes(s, "activities", _code_map(framework, "activities"), "activities")
    findings += rules.check_code(s, "status", codes.SESSION_STATUSES, "a session status")
    findings += rules.check_range(s, "duration_minutes", framework.duration_minutes, "minutes")
    findings += _declared_rules("session", framework, s)
    findings += _session_time(s, now)
    findings += _register(s, framework, attendees)
    return _dedupe(findings)


def _session_time(s: Record, now: datetime) -> list[Finding]:
    starts_at = s.get("starts_at")
    if is_blank(starts_at):
        return []
    if not isinstance(starts_at, datetime):
        return [error("starts_at", "The session date and time should be a date and time.", "type")]
    if s.get("status") == "delivered" and clock.is_future(starts_at, now):
        return [
            error(
                "starts_at",
                "A session in the future can't be marked as delivered. "
                "Mark it as planned, or correct the date and time.",
                "future_session",
            )
        ]
    return []


def _register(
    s: Record, framework: Framework, attendees: Sequence[AttendeeContext]
) -> list[Finding]:
    findings: list[Finding] = []
    ids = [a.participant_id for a in attendees]
    repeated = (
        [pid for pid, n in Counter(ids).items() if n > 1] if len(set(ids)) != len(ids) else []
    )
    allowed = codes.ATTENDANCE_STATUSES
    for attendee in attendees:
        ref, status = attendee.reference, attendee.status
        if repeated and attendee.participant_id in repeated:
            findings.append(error("attendees", f"{ref} is on the register twice.", "duplicate"))
            repeated.remove(attendee.participant_id)
        if status.__class__ is str and status in allowed:
            pass  # the common case, checked first: a register line is the most numerous thing
        elif is_blank(status):
            findings.append(error("attendees", f"Mark whether {ref} attended.", "required"))
        elif not isinstance(status, str) or status not in allowed:
            findings.append(
                error(
                    "attendees",
                    f"Choose an attendance status for {ref} from the list.",
                    "code_list",
                )
            )
        if not attendee.enrolled:
            findings.append(
                error(
                    "attendees",
                    f"{ref} isn't enrolled in {framework.name} on the session date. "
                    "Enrol them first, or remove them from the register.",
                    "not_enrolled",
                )
            )
        if attendee.clashing_session_ids and attendee.status in codes.PRESENT_STATUSES:
            count = len(attendee.clashing_session_ids)
            others = "another session" if count == 1 else f"{count} other sessions"
            findings.append(
                warning(
                    "attendees",
                    f"{ref} is also recorded as attending {others} at an overlapping time.",
                    "double_booked",
                )
            )
    if s.get("status") == "delivered":
        findings += _attendance_count(s, attendees)
    return findings


def _attendance_count(s: Record, attendees: Sequence[AttendeeContext]) -> list[Finding]:
    present = sum(1 for a in attendees if a.status in codes.PRESENT_STATUSES)
    kind = s.get("session_type")
    if kind == "group" and present == 0:
        return [
            error(
                "attendees",
                "Mark at least one young person as attending this group session.",
                "attendance",
            )
        ]
    if kind == "one_to_one" and present != 1:
        message = (
            "Mark the young person who attended this one-to-one session."
            if present == 0
            else f"A one-to-one session has one young person attending, but {present} are marked."
        )
        return [error("attendees", message, "attendance")]
    return []


# --- questionnaire response ------------------------------------------------------------------


def validate_response(
    r: Record,
    *,
    measure: MeasureDefinition,
    framework: Framework,
    enrolment: Mapping[str, Any] | None,
    today: date,
    scored: ScoreResult | None = None,
) -> list[Finding]:
    """Whether the questionnaire belongs here, was done on time, and can be scored.

    ``scored``: the answers' score, when the caller has already worked it out (an importer
    that stores its own computation), so it is not worked out twice.
    """
    findings = rules.check_required(r, _required("response", framework))
    findings += rules.check_date_type(r, ("completed_on",))
    findings += rules.check_not_future(r, ("completed_on",), today)
    findings += _declared_rules("response", framework, r)
    use = framework.measure_use(measure.id)
    if r.get("measure_id") not in (None, measure.id) or use is None:
        findings.append(
            error(
                "measure_id",
                f"{measure.name} isn't one of the questionnaires used by {framework.name}.",
                "code_list",
            )
        )
    timepoint = r.get("timepoint")
    window = use.window(timepoint) if use is not None and isinstance(timepoint, str) else None
    if not is_blank(timepoint) and use is not None and window is None:
        allowed = ", ".join(codes.TIMEPOINTS.get(w.timepoint, w.timepoint) for w in use.timepoints)
        findings.append(
            error(
                "timepoint",
                f"In {framework.name}, {measure.name} is collected at: {allowed.lower()}.",
                "code_list",
            )
        )
    if window is not None:
        findings += _window(r, window, enrolment)
    findings += _answers(r, measure, scored)
    return _dedupe(findings)


def _offset_words(days: int, anchor: str) -> str:
    if days == 0:
        return f"on the {anchor}"
    side = "before" if days < 0 else "after"
    plural = "" if abs(days) == 1 else "s"
    return f"{abs(days)} day{plural} {side} the {anchor}"


def _window(r: Record, window: Any, enrolment: Mapping[str, Any] | None) -> list[Finding]:
    completed = date_value(r, "completed_on")
    if completed is None:
        return []
    name = codes.TIMEPOINTS[window.timepoint]
    anchor_label = rules.label(window.anchor)
    if enrolment is None:
        return [
            warning(
                "enrolment_id",
                "This questionnaire isn't linked to an enrolment, so its timing can't be checked.",
                "not_enrolled",
            )
        ]
    anchor = date_value(enrolment, window.anchor)
    if anchor is None:
        return [
            warning(
                "completed_on",
                f"{name} questionnaires are timed from the enrolment's {anchor_label}, "
                "which hasn't been entered yet.",
                "timepoint_window",
            )
        ]
    offset = (completed - anchor).days
    if offset in window.window_days:
        return []
    days = window.window_days
    earliest, latest = anchor.toordinal() + days.min, anchor.toordinal() + days.max
    return [
        warning(
            "completed_on",
            f"{name} questionnaires are due from {_offset_words(days.min, anchor_label)} to "
            f"{_offset_words(days.max, anchor_label)} ({_when(date.fromordinal(earliest))} to "
            f"{_when(date.fromordinal(latest))}). This one was completed "
            f"{_offset_words(offset, anchor_label)}.",
            "timepoint_window",
        )
    ]


def _answers(r: Record, measure: MeasureDefinition, scored: ScoreResult | None) -> list[Finding]:
    answers = r.get("answers")
    if is_blank(answers):
        return []
    if scored is None:
        try:
            scored = score(measure, answers)
        except ValueError as exc:
            return [error("answers", str(exc), "range")]
    missing = unscored(measure, scored)
    if not missing:
        return []
    return [
        warning(
            "answers",
            f"Too many questions were left blank to work out: {', '.join(missing)}.",
            "missing_items",
        )
    ]
