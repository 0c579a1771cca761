"""Interpreters for the declarative checks: required, code lists, conditions, dates, ranges.

Each function looks at one plain mapping and returns findings; nothing here knows about forms,
databases or which record kind it is checking beyond the labels it uses in messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from vrp_desktop.frameworks.models import Condition, DateOrderRule, IntRange, RequiredIfRule
from vrp_desktop.validation.findings import Finding, error

Record = Mapping[str, Any]

FIELD_LABELS: dict[str, str] = {
    "reference": "reference",
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "postcode_district": "postcode district",
    "consent_status": "consent",
    "consent_date": "consent date",
    "participant_id": "young person",
    "intervention_id": "intervention",
    "enrolment_id": "enrolment",
    "referral_source": "referral source",
    "referral_date": "referral date",
    "start_date": "start date",
    "end_date": "end date",
    "exit_reason": "exit reason",
    "exit_detail": "exit details",
    "starts_at": "session date and time",
    "duration_minutes": "duration",
    "session_type": "session type",
    "location_type": "location type",
    "measure_id": "questionnaire",
    "completed_on": "date completed",
    "answers": "answers",
}


def label(field: str) -> str:
    """How a field is named in a sentence."""
    return FIELD_LABELS.get(field, field.replace("_", " "))


def is_blank(value: Any) -> bool:
    """Missing, empty text or an empty list all count as "not filled in"."""
    if value is None:
        return True
    if value.__class__ is str or isinstance(value, str):  # the exact type first: cheaper
        return not value.strip()
    if isinstance(value, _COLLECTIONS):
        return len(value) == 0
    return False


# a plain tuple: isinstance with a tuple of types is several times faster than with a union,
# and this runs for every field of every record a batch import validates
_COLLECTIONS = (list, tuple, set, frozenset, dict)


def check_required(record: Record, fields: Iterable[str]) -> list[Finding]:
    """Each field left blank (a field named twice is reported once)."""
    blank = []
    for field in fields:
        value = record.get(field)
        if value.__class__ is str:  # the common case, without a call
            if value.strip():
                continue
        elif value is not None and not is_blank(value):
            continue
        blank.append(field)
    if not blank:
        return []
    return [
        error(field, f"Enter the {label(field)}.", "required") for field in dict.fromkeys(blank)
    ]


def check_code(
    record: Record, field: str, allowed: Mapping[str, str] | Iterable[str], what: str
) -> list[Finding]:
    """A code that is filled in must be on the list; blanks are ``check_required``'s job."""
    value = record.get(field)
    if is_blank(value) or (_hashable(value) and value in allowed):
        return []
    return [error(field, f"Choose {what} from the list.", "code_list")]


def check_codes(
    record: Record, field: str, allowed: Mapping[str, str] | Iterable[str], what: str
) -> list[Finding]:
    """Every code in a list field (e.g. activities) must be on the list."""
    values = record.get(field)
    if is_blank(values):
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        return [error(field, f"Choose {what} from the list.", "code_list")]
    if not isinstance(allowed, frozenset | set):
        allowed = set(allowed)
    unknown = [value for value in values if not _hashable(value) or value not in allowed]
    if not unknown:
        return []
    shown = unknown[0]
    if isinstance(shown, str) and _CODE_SHAPE(shown):
        return [
            error(field, f"'{shown}' is not one of the {what} for this framework.", "code_list")
        ]
    # a value that is not even shaped like a code is never repeated: it could be anything,
    # personal data included, and messages are stored and sent back
    return [error(field, f"Choose {what} from the list.", "code_list")]


_CODE_SHAPE = re.compile(r"[a-z0-9_]{1,64}").fullmatch


def _hashable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def date_value(record: Record, field: str) -> date | None:
    """The field as a date, or None when it is blank or not a date at all."""
    value = record.get(field)
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def check_date_type(record: Record, fields: Iterable[str]) -> list[Finding]:
    return [
        error(field, f"The {label(field)} should be a date.", "type")
        for field in fields
        if not is_blank(record.get(field)) and date_value(record, field) is None
    ]


def check_not_future(record: Record, fields: Iterable[str], today: date) -> list[Finding]:
    findings = []
    for field in fields:
        value = date_value(record, field)
        if value is not None and value > today:
            findings.append(
                error(field, f"The {label(field)} can't be in the future.", "future_date")
            )
    return findings


def condition_holds(condition: Condition, record: Record) -> bool:
    value = record.get(condition.field)
    if condition.present is not None:
        return (not is_blank(value)) is condition.present
    if condition.equals is not None:
        return value == condition.equals
    return value in (condition.one_of or [])


def check_required_if(rule: RequiredIfRule, record: Record) -> list[Finding]:
    if not condition_holds(rule.when, record) or not is_blank(record.get(rule.field)):
        return []
    message = rule.message or f"Enter the {label(rule.field)}."
    return [error(rule.field, message, "required")]


def check_date_order(rule: DateOrderRule, record: Record) -> list[Finding]:
    """Dates present must be on or before the later ones; the later field gets the finding."""
    dated = [(field, date_value(record, field)) for field in rule.fields]
    present = [(field, value) for field, value in dated if value is not None]
    findings = []
    for index, (field, value) in enumerate(present[1:], start=1):
        earlier_field, earlier = max(present[:index], key=lambda pair: pair[1])
        if value < earlier:
            message = rule.message or (
                f"The {label(field)} can't be before the {label(earlier_field)}."
            )
            findings.append(error(field, message, "date_order"))
    return findings


def check_range(record: Record, field: str, allowed: IntRange, unit: str) -> list[Finding]:
    value = record.get(field)
    if is_blank(value):
        return []
    if isinstance(value, bool) or not isinstance(value, int):
        return [error(field, f"The {label(field)} should be a whole number of {unit}.", "type")]
    if value in allowed:
        return []
    return [
        error(
            field,
            f"The {label(field)} should be between {allowed.min} and {allowed.max} {unit}.",
            "range",
        )
    ]
