"""The batch schema: the shape every record must have before any framework rule is applied.

A batch is signed by a provider, and a signature vouches for origin, not content: a provider's
own software could be old, broken or altered. So the coordinator checks every key and every
value of every record against this schema first (exact key set, types, sizes, id shapes,
date formats, the pseudonym's shape, the age band list), then the framework rules in
``engine``. A record that fails gets plain reasons; nothing about it reaches the store.

Messages never repeat the offending value: a value in a bad field may be exactly the personal
data that must not travel (a pseudonym of "Amir Khan 2009-04-02"), and reasons are stored at
the VRP and sent back in the receipt. Only key names that look like field codes are named.

Checked values are normalised in place (dates become ``date``/``datetime``), so the engine
and the store see typed values. Everything here runs for every record of a million-record
batch, so the checks are plain functions on ``type(...) is``, small regexes and set lookups.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from vrp_desktop import codes

#: pseudonyms are the first 32 hex digits of an HMAC-SHA-256 (services/pseudonyms.py)
PSEUDONYM_LENGTH = 32
MAX_INT = 2**31 - 1
MAX_LIST = 500
MAX_REGISTER = 5000
#: entities a tombstone may name (attendances travel inside sessions, but are erased alone)
TOMBSTONE_ENTITIES = frozenset(
    {"intervention", "participant", "enrolment", "session", "attendance", "outcome_response"}
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
_PSEUDONYM = re.compile(rf"[0-9a-f]{{{PSEUDONYM_LENGTH}}}").fullmatch
_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}").fullmatch
_SCORING_VERSION = re.compile(r"[a-z][a-z0-9_]{0,63}:v[0-9]{1,6}").fullmatch
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
).fullmatch
_AGE_BANDS = frozenset(codes.AGE_BANDS)
_ATTENDANCE_CODES = frozenset(codes.ATTENDANCE_STATUSES)


class Bad(ValueError):
    """One field's value does not fit the schema; the message never holds the value."""


# -- one checker per kind of value: return the (normalised) value or raise Bad -----------------


def record_id(value: Any) -> str:
    if type(value) is str and len(value) == 36 and _UUID(value):
        return value
    raise Bad("should be a record id (a UUID in lower case).")


def version(value: Any) -> int:
    if type(value) is int and 1 <= value <= MAX_INT:
        return value
    raise Bad(f"should be a whole number from 1 to {MAX_INT}.")


def count(value: Any) -> int:
    if type(value) is int and 0 <= value <= MAX_INT:
        return value
    raise Bad(f"should be a whole number from 0 to {MAX_INT}.")


def code(value: Any) -> str:
    if type(value) is str and _CODE(value):
        return value
    raise Bad("should be a code from the framework's lists (lower-case letters, digits, _).")


def flag(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Bad("should be true or false.")


def pseudonym(value: Any) -> str:
    if type(value) is str and len(value) == PSEUDONYM_LENGTH and _PSEUDONYM(value):
        return value
    raise Bad(
        f"should be {PSEUDONYM_LENGTH} lower-case hexadecimal characters (a keyed pseudonym); "
        "a name, birth date or anything else is refused."
    )


def age_band(value: Any) -> str:
    if type(value) is str and value in _AGE_BANDS:
        return value
    raise Bad(f"should be one of the age bands {', '.join(codes.AGE_BANDS)}.")


def birth_month(value: Any) -> str:
    """Year and month of birth (``YYYY-MM``): the only part of a date of birth that travels,
    so the VRP works out age on a quarter's first day exactly as the provider does."""
    if (
        type(value) is str
        and _MONTH(value)
        and 1900 <= int(value[:4]) <= 2100
        and 1 <= int(value[5:]) <= 12
    ):
        return value
    raise Bad("should be a year and month of birth such as 2011-04 (never a full date).")


def text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if type(value) is not str or not value.strip():
            raise Bad("should be filled in.")
        if len(value) > limit or not value.isprintable():
            raise Bad(f"should be one line of at most {limit} characters.")
        return value

    return check


def postcode_district(value: Any) -> str:
    if type(value) is str and 0 < len(value) <= 8:
        return value
    raise Bad("should be the first part of a postcode (at most 8 characters).")


_GSS = re.compile(r"[ENSW][0-9]{8}").fullmatch


def local_authority(value: Any) -> str:
    """An ONS local authority code (E08000025): a district the partnership's rule coarsened."""
    if type(value) is str and len(value) == 9 and _GSS(value):
        return value
    raise Bad("should be a local authority code such as E08000025 (9 characters).")


#: dates outside these years are typing mistakes (and date arithmetic near year 1 or 9999
#: overflows), so they are refused here rather than wherever they would break
YEARS = (1900, 2100)


def date(value: Any) -> dt.date:
    if type(value) is str and len(value) == 10 and _DATE(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Bad("is not a real date.") from None
        if YEARS[0] <= day.year <= YEARS[1]:
            return day
        raise Bad(f"should be a date between {YEARS[0]} and {YEARS[1]}.")
    raise Bad("should be a date written YYYY-MM-DD.")


def datetime(value: Any) -> dt.datetime:
    if type(value) is str and len(value) <= 32 and _DATETIME(value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise Bad("is not a real date and time.") from None
        if YEARS[0] <= moment.year <= YEARS[1]:
            return moment
        raise Bad(f"should be a date between {YEARS[0]} and {YEARS[1]}.")
    raise Bad("should be a date and time written YYYY-MM-DDTHH:MM:SS.")


def codes_list(value: Any) -> list[str]:
    if type(value) is list and len(value) <= MAX_LIST:
        for item in value:
            if type(item) is not str or not _CODE(item):
                raise Bad("should be a list of codes from the framework's lists.")
        return value
    raise Bad("should be a list of codes from the framework's lists.")


def answers(value: Any) -> list[int | None]:
    if type(value) is list and 0 < len(value) <= MAX_LIST:
        for item in value:
            if item is not None and (type(item) is not int or not -1000 <= item <= 1000):
                raise Bad("should be a list of whole-number answers (or blanks).")
        return value
    raise Bad("should be a list of whole-number answers (or blanks), one per question.")


def scores(value: Any) -> dict[str, float | None]:
    if type(value) is dict and len(value) <= MAX_LIST:
        for key, item in value.items():
            if not _CODE(key) or not _number(item):
                raise Bad("should map each score's id to a number (or a blank).")
        return value
    raise Bad("should map each score's id to a number (or a blank).")


def _number(item: Any) -> bool:
    if item is None:
        return True
    if type(item) is int:
        return -(10**9) <= item <= 10**9
    return type(item) is float and math.isfinite(item) and -1e9 <= item <= 1e9


def bands(value: Any) -> dict[str, str]:
    if type(value) is dict and len(value) <= MAX_LIST:
        for key, item in value.items():
            if not _CODE(key) or type(item) is not str or len(item) > 100:
                raise Bad("should map each score's id to the label of its band.")
        return value
    raise Bad("should map each score's id to the label of its band.")


def scoring_version(value: Any) -> str:
    if type(value) is str and _SCORING_VERSION(value):
        return value
    raise Bad("should name a questionnaire's scoring version (for example sdq_s11_17:v1).")


def tombstone_entity(value: Any) -> str:
    if type(value) is str and value in TOMBSTONE_ENTITIES:
        return value
    raise Bad("should name a kind of record the VRP holds.")


def register(value: Any) -> list[dict[str, Any]]:
    """A session's register: one line per young person (id, version, participant, status).

    Written out longhand: a register line is the most numerous thing in a batch. The ids of
    all lines are matched by one regular expression over their joined text (each id 36
    characters long, so the separators cannot be faked), not one call per id.
    """
    if type(value) is not list or len(value) > MAX_REGISTER:
        raise Bad(f"should be a list of at most {MAX_REGISTER} register lines.")
    is_code, ids = _CODE, []
    for line in value:
        try:
            if type(line) is not dict or len(line) != 4:
                raise KeyError
            lid, pid, number, status = (
                line["id"],
                line["participant_id"],
                line["version"],
                line["status"],
            )
        except KeyError:
            raise Bad(
                "each register line should hold exactly id, version, participant_id, status."
            ) from None
        if not (
            lid.__class__ is str
            and len(lid) == 36
            and pid.__class__ is str
            and len(pid) == 36
            and number.__class__ is int
            and 1 <= number <= MAX_INT
            and (
                status is None
                or (
                    status.__class__ is str
                    and (status in _ATTENDANCE_CODES or is_code(status))  # the list first
                )
            )
        ):
            raise Bad(_BAD_LINE)
        ids.append(lid)
        ids.append(pid)
    if ids and not _UUID_LINES("\n".join(ids)):
        raise Bad(_BAD_LINE)
    if len(set(ids[::2])) != len(value):
        raise Bad("a register line's id appears twice.")
    return value


_BAD_LINE = (
    "each register line needs a record id, a version from 1, the young person's "
    "record id and an attendance code."
)
_UUID_LINES = re.compile(
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n)*"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch


# -- the schema ---------------------------------------------------------------------------------

Checker = Callable[[Any], Any]
#: entity -> (field, checker, blank allowed); the field names must equal manifest.FIELDS
#: (a test keeps them in step) plus a session's register
SCHEMA: dict[str, tuple[tuple[str, Checker, bool], ...]] = {
    "intervention": (
        ("id", record_id, False),
        ("version", version, False),
        ("framework_id", code, False),
        ("framework_version", version, False),
        ("name", text(200), False),
        ("tier", code, True),
        ("setting", code, True),
        ("area", text(100), True),
        ("active", flag, False),
    ),
    "participant": (
        ("id", record_id, False),
        ("version", version, False),
        ("pseudonym", pseudonym, True),
        ("age_band", age_band, True),
        ("birth_month", birth_month, True),
        ("gender", code, True),
        ("ethnicity", code, True),
        ("postcode_district", postcode_district, True),
        ("local_authority", local_authority, True),  # a coarsened district (``sync.quasi``)
        ("consent_status", code, True),
        ("consent_date", date, True),
        ("match_token", pseudonym, True),  # coarse keyed token (``sync.matching``)
    ),
    "enrolment": (
        ("id", record_id, False),
        ("version", version, False),
        ("participant_id", record_id, False),
        ("intervention_id", record_id, False),
        ("referral_source", code, True),
        ("referral_date", date, True),
        ("start_date", date, True),
        ("end_date", date, True),
        ("exit_reason", code, True),
    ),
    "session": (
        ("id", record_id, False),
        ("version", version, False),
        ("intervention_id", record_id, False),
        ("starts_at", datetime, False),
        ("duration_minutes", count, True),
        ("session_type", code, True),
        ("mode", code, True),
        ("location_type", code, True),
        ("activities", codes_list, False),
        ("staff_count", count, False),
        ("status", code, True),
        ("register", register, False),
    ),
    "outcome_response": (
        ("id", record_id, False),
        ("version", version, False),
        ("participant_id", record_id, False),
        ("enrolment_id", record_id, False),
        ("measure_id", code, False),
        ("timepoint", code, False),
        ("completed_on", date, False),
        ("answers", answers, False),
        ("scores", scores, False),
        ("bands", bands, False),
        ("scoring_version", scoring_version, True),
    ),
    "tombstone": (
        ("id", record_id, False),
        ("entity", tombstone_entity, False),
        ("entity_id", record_id, False),
        ("version", version, False),
        ("reason", code, True),
        ("deleted_at", datetime, True),
    ),
}
KEYS = {entity: frozenset(name for name, _c, _b in spec) for entity, spec in SCHEMA.items()}
_MONTH = re.compile(r"\d{4}-\d{2}").fullmatch
#: fields added after the first batch format: a batch made before them still imports
_ADDED = {"participant": frozenset({"birth_month"})}
#: participant fields a newer provider sends and an older one leaves out: blank when missing
_LATER_BLANK = ("match_token", "local_authority")
_LABEL_SAFE = re.compile(r"[a-z][a-z0-9_]{0,39}").fullmatch


def _named(keys) -> str:
    """Key names for a message: code-like names only (a key could itself be a planted name)."""
    safe = sorted(k for k in keys if isinstance(k, str) and _LABEL_SAFE(k))
    hidden = len(keys) - len(safe)
    parts = safe[:10] + ([f"{hidden} more not shown"] if hidden else [])
    return ", ".join(parts)


# -- the compiled fast path ---------------------------------------------------------------------

#: checkers whose test is a plain expression on ``v`` (no normalisation): the fast path inlines
#: them. Each expression must accept exactly the values its checker returns unchanged.
_INLINE: dict[Checker, str] = {
    record_id: "v.__class__ is str and len(v) == 36 and _UUID(v)",
    version: "v.__class__ is int and 1 <= v <= MAX_INT",
    count: "v.__class__ is int and 0 <= v <= MAX_INT",
    code: "v.__class__ is str and _CODE(v)",
    flag: "v.__class__ is bool",
    pseudonym: "v.__class__ is str and len(v) == PSEUDONYM_LENGTH and _PSEUDONYM(v)",
    age_band: "v.__class__ is str and v in _AGE_BANDS",
    postcode_district: "v.__class__ is str and 0 < len(v) <= 8",
    local_authority: "v.__class__ is str and len(v) == 9 and _GSS(v)",
}


def _compile(entity: str) -> Callable[[dict[str, Any]], bool]:
    """A function that accepts a record whose every value fits ``SCHEMA[entity]``.

    It is the same schema written out as straight-line code, generated once per entity, because
    a loop calling one checker per field was a large share of a million-record import. It says
    True (and normalises in place) only when every field passes; on the first doubt it says
    False having changed nothing, and ``check`` then runs the checkers one by one for the words.
    """
    lines = [f"def fast_{entity}(record):"]
    converted = []
    for index, (name, checker, blank_ok) in enumerate(SCHEMA[entity]):
        lines.append(f"    v = record[{name!r}]")
        blank = "v is not None and " if blank_ok else ""
        if checker in _INLINE:
            lines.append(f"    if {blank}not ({_INLINE[checker]}): return False")
            continue
        # a checker that normalises (dates) or walks a list: called, its result kept aside so
        # a later failure leaves the record as it came
        lines.append(f"    c{index} = None" if blank_ok else "    if v is None: return False")
        guard = "if v is not None: " if blank_ok else ""
        lines.append(f"    {guard}c{index} = _checkers[{index}](v)")
        converted.append((index, name))
    lines += [f"    record[{name!r}] = c{index}" for index, name in converted]
    lines.append("    return True")
    space: dict[str, Any] = {
        "_UUID": _UUID,
        "_CODE": _CODE,
        "_PSEUDONYM": _PSEUDONYM,
        "_AGE_BANDS": _AGE_BANDS,
        "_GSS": _GSS,
        "MAX_INT": MAX_INT,
        "PSEUDONYM_LENGTH": PSEUDONYM_LENGTH,
        "_checkers": [checker for _n, checker, _b in SCHEMA[entity]],
    }
    exec(compile("\n".join(lines), f"<batch schema: {entity}>", "exec"), space)
    fast = space[f"fast_{entity}"]

    def accept(record: dict[str, Any]) -> bool:
        try:
            return fast(record)
        except Bad:
            return False

    return accept


_FAST = {entity: _compile(entity) for entity in SCHEMA}


def check(entity: str, record: Any) -> list[str]:
    """Reasons ``record`` does not fit the schema of ``entity`` (empty when it does).

    Values are normalised in place; stop-at-first is not used, so the provider sees every
    problem at once.
    """
    spec = SCHEMA.get(entity)
    if spec is None:
        return ["This kind of record is not one a batch carries."]
    if type(record) is not dict:
        return ["This line is not a record."]
    if entity == "participant":
        for name in _LATER_BLANK:
            if name not in record:
                record[name] = None  # sent by a version from before the field existed
    keys = record.keys()
    added = _ADDED.get(entity, frozenset())
    if added and keys | added == KEYS[entity] and not keys & added:
        record.update(dict.fromkeys(added))  # an older provider's batch: left blank
        keys = record.keys()
    if keys == KEYS[entity] and _FAST[entity](record):
        return []
    if keys != KEYS[entity]:
        reasons = []
        missing = KEYS[entity] - keys
        extra = keys - KEYS[entity]
        if missing:
            reasons.append(f"The record lacks the fields {_named(missing)}.")
        if extra:
            reasons.append(
                f"The record carries fields that never travel in a batch: {_named(extra)}."
            )
        return reasons
    reasons = []
    for name, checker, blank_ok in spec:
        value = record[name]
        if value is None:
            if not blank_ok:
                reasons.append(f"{name}: should be filled in.")
            continue
        try:
            record[name] = checker(value)
        except Bad as exc:
            reasons.append(f"{name}: {exc}")
    return reasons


def safe_id(record: Any) -> str:
    """The record's id if it is a well-formed id, else a placeholder (never the raw value)."""
    value = record.get("id") if type(record) is dict else None
    return value if type(value) is str and len(value) == 36 and _UUID(value) else "(no valid id)"


def safe_version(record: Any) -> int:
    value = record.get("version") if type(record) is dict else None
    return value if type(value) is int and 0 <= value <= MAX_INT else 0


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """A checked record as JSON-ready values (dates back to ISO text)."""
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in record.items()
    }
