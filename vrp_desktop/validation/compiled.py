"""Cheap "no error here" tests for received records, worked out once per framework.

A coordinator's import checks every record of a million-record batch with the engine, and
almost every record is fine: the engine then builds and throws away dozens of empty lists per
record (and, for a young person, findings about names that never travel). These tests answer
one question per record — would the engine report no *error*? — with plain comparisons against
sets built once per framework.

They are conservative by construction: each says True only when every condition the engine
turns into an error is plainly absent, and False whenever in doubt (a blank string, an unusual
type, a declared rule that fires). False never refuses anything: the caller then runs the
engine, which decides and says why. So the engine stays the one source of the rules' words and
outcomes; a property test (tests/test_validation_compiled.py) holds these tests to it.

Records here are ones the batch schema has already checked and normalised (dates are ``date``
and ``datetime``, codes are strings of code shape).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from vrp_desktop import clock, codes
from vrp_desktop.frameworks.models import DateOrderRule, Framework
from vrp_desktop.validation import rules
from vrp_desktop.validation.engine import BASE_REQUIRED, _plan

#: value types whose emptiness ``rules.is_blank`` judges by length
_SIZED = (list, tuple, set, frozenset, dict)
#: value types a filled-in field may have here; anything else goes to the engine
_PLAIN = frozenset({int, float, bool, dt.date, dt.datetime, *_SIZED})
_ATTENDANCE = frozenset(codes.ATTENDANCE_STATUSES)
_PRESENT = codes.PRESENT_STATUSES
_STATUS = operator.itemgetter("status")
_PARTICIPANT = operator.itemgetter("participant_id")


def _filled(record: Mapping[str, Any], fields: Sequence[str]) -> bool:
    """Every field is filled in (``rules.check_required`` would say nothing)."""
    for field in fields:
        value = record.get(field)
        kind = value.__class__
        if kind is str:
            if not value.strip():
                return False
        elif value is None or kind not in _PLAIN or (kind in _SIZED and not value):
            return False
    return True


def _on_list(value: Any, allowed: Collection[str]) -> bool:
    """Blank (None) or a code on the list (``rules.check_code`` would say nothing)."""
    return value is None or (value.__class__ is str and value in allowed)


def _dates_ok(record: Mapping[str, Any], fields: Sequence[str], today: dt.date) -> bool:
    """Each field blank or a real date not after ``today`` (no type or future finding)."""
    for field in fields:
        value = record.get(field)
        if value is not None and not (value.__class__ is dt.date and value <= today):
            return False
    return True


def _declared_ok(declared: Sequence[Any], record: Mapping[str, Any]) -> bool:
    for rule in declared:
        if isinstance(rule, DateOrderRule):
            if rules.check_date_order(rule, record):
                return False
        elif rules.check_required_if(rule, record):
            return False
    return True


@functools.lru_cache(maxsize=4)
def _latest_start(now: dt.datetime) -> dt.datetime:
    """The latest start ``clock.is_future`` lets a travelled (aware) start have, worked out
    once per import clock rather than once per session."""
    return clock.wall_time_aware(now).astimezone(dt.UTC) + clock.FUTURE_TOLERANCE


class FrameworkChecks:
    """The sets and lists one framework's checks compare against, built once."""

    def __init__(self, framework: Framework) -> None:
        plan = _plan(framework)
        self.framework = framework
        self.required = plan.required
        self.rules = plan.rules
        self.session_types = frozenset(framework.session_types)
        self.modes = frozenset(framework.modes)
        self.locations = plan.code_set("location_types")
        self.activities = plan.code_set("activities")
        self.referral_sources = plan.code_set("referral_sources")
        self.exit_reasons = plan.code_set("exit_reasons")
        self.duration = (framework.duration_minutes.min, framework.duration_minutes.max)

    def session(self, s: Mapping[str, Any], register: Sequence[Mapping[str, Any]], now) -> bool:
        """No error from ``engine.validate_session`` with every attendee enrolled (the
        coordinator's context: enrolment is the provider's check)."""
        if not _filled(s, self.required["session"]):
            return False
        if not (
            _on_list(s.get("session_type"), self.session_types)
            and _on_list(s.get("mode"), self.modes)
            and _on_list(s.get("location_type"), self.locations)
            and _on_list(s.get("status"), codes.SESSION_STATUSES)
        ):
            return False
        activities = s.get("activities")
        if activities is not None:
            if activities.__class__ is not list:
                return False
            allowed = self.activities
            for code in activities:
                if code.__class__ is not str or code not in allowed:
                    return False
        minutes = s.get("duration_minutes")
        if minutes is not None and not (
            minutes.__class__ is int and self.duration[0] <= minutes <= self.duration[1]
        ):
            return False
        declared = self.rules["session"]
        if declared and not _declared_ok(declared, s):
            return False
        starts_at = s.get("starts_at")
        if not isinstance(starts_at, dt.datetime):
            return False
        delivered = s.get("status") == "delivered"
        if delivered:
            if starts_at.tzinfo is not None:  # travelled with its offset: compare exactly
                if starts_at > _latest_start(now):
                    return False
            elif clock.is_future(starts_at, now):
                return False
        statuses = list(map(_STATUS, register))
        try:
            if not _ATTENDANCE.issuperset(statuses):  # a blank (None) status is not on it
                return False
        except TypeError:  # a status of a type the schema would have refused
            return False
        if len(set(map(_PARTICIPANT, register))) != len(register):
            return False  # someone on the register twice
        if delivered:
            kind = s.get("session_type")
            if kind == "group" or kind == "one_to_one":
                present = sum(map(_PRESENT.__contains__, statuses))  # all on the list: hashable
                if (kind == "group" and present == 0) or (kind == "one_to_one" and present != 1):
                    return False
        return True

    def enrolment(self, e: Mapping[str, Any], today: dt.date) -> bool:
        """No error from ``engine.validate_enrolment`` without the participant (whose birth
        date never travels, so age eligibility is the provider's check)."""
        declared = self.rules["enrolment"]
        return (
            _filled(e, self.required["enrolment"])
            and _dates_ok(e, ("referral_date", "start_date", "end_date"), today)
            and _on_list(e.get("referral_source"), self.referral_sources)
            and _on_list(e.get("exit_reason"), self.exit_reasons)
            and (not declared or _declared_ok(declared, e))
        )

    def response(self, r: Mapping[str, Any], measure, today: dt.date, scored: bool) -> bool:
        """No error from ``engine.validate_response`` given answers that scored."""
        if not scored or not _filled(r, self.required["response"]):
            return False
        if not _dates_ok(r, ("completed_on",), today):
            return False
        declared = self.rules["response"]
        if declared and not _declared_ok(declared, r):
            return False
        if r.get("measure_id") not in (None, measure.id):
            return False
        use = self.framework.measure_use(measure.id)
        if use is None:
            return False
        timepoint = r.get("timepoint")
        return timepoint is None or (
            timepoint.__class__ is str and use.window(timepoint) is not None
        )


_CHECKS: dict[int, FrameworkChecks] = {}


def for_framework(framework: Framework) -> FrameworkChecks:
    """The checks for ``framework``, cached by identity (the entry keeps it alive)."""
    found = _CHECKS.get(id(framework))
    if found is None or found.framework is not framework:
        if len(_CHECKS) > 64:
            _CHECKS.clear()
        found = _CHECKS[id(framework)] = FrameworkChecks(framework)
    return found


_PARTICIPANT_REQUIRED: dict[frozenset[str], tuple[str, ...]] = {}


def participant(p: Mapping[str, Any], today: dt.date, ignored: frozenset[str]) -> bool:
    """No error from ``engine.validate_participant`` (no framework) outside ``ignored``
    fields (names and birth date, which never travel)."""
    required = _PARTICIPANT_REQUIRED.get(ignored)
    if required is None:
        required = _PARTICIPANT_REQUIRED[ignored] = tuple(
            f for f in BASE_REQUIRED["participant"] if f not in ignored
        )
    if not _filled(p, required) or not _dates_ok(p, ("consent_date",), today):
        return False
    if not (
        _on_list(p.get("gender"), codes.GENDERS)
        and _on_list(p.get("ethnicity"), codes.ETHNICITIES)
        and _on_list(p.get("consent_status"), codes.CONSENT_STATUSES)
    ):
        return False
    if p.get("consent_status") == "given" and p.get("consent_date") is None:
        return False
    district = p.get("postcode_district")
    return district is None or (
        district.__class__ is str
        and district.strip() != ""
        and not codes.is_full_postcode(district)
        and codes.postcode_district(district) is not None
    )
