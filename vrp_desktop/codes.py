"""Shared code lists and the small derivations every layer agrees on.

Codes are stable identifiers that travel in batches and returns; labels are what a person reads.
Each list is an ordered mapping ``code -> label`` so drop-downs and return tables keep one order.
"""

from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType
from typing import Final


def _codes(*pairs: tuple[str, str]) -> MappingProxyType[str, str]:
    return MappingProxyType(dict(pairs))


GENDERS: Final = _codes(
    ("female", "Female"),
    ("male", "Male"),
    ("non_binary", "Non-binary"),
    ("other", "Other"),
    ("prefer_not_to_say", "Prefer not to say"),
    ("not_known", "Not known"),
)

# ONS 2021 Census ethnic group classification (England and Wales): 5 groups, 19 categories.
ETHNIC_GROUPS: Final = _codes(
    ("asian", "Asian, Asian British or Asian Welsh"),
    ("black", "Black, Black British, Black Welsh, Caribbean or African"),
    ("mixed", "Mixed or Multiple ethnic groups"),
    ("white", "White"),
    ("other", "Other ethnic group"),
    ("not_stated", "Not stated"),
)

_ETHNICITY_ROWS: Final = (
    ("asian_bangladeshi", "Bangladeshi", "asian"),
    ("asian_chinese", "Chinese", "asian"),
    ("asian_indian", "Indian", "asian"),
    ("asian_pakistani", "Pakistani", "asian"),
    ("asian_other", "Any other Asian background", "asian"),
    ("black_african", "African", "black"),
    ("black_caribbean", "Caribbean", "black"),
    ("black_other", "Any other Black, Black British or Caribbean background", "black"),
    ("mixed_white_asian", "White and Asian", "mixed"),
    ("mixed_white_black_african", "White and Black African", "mixed"),
    ("mixed_white_black_caribbean", "White and Black Caribbean", "mixed"),
    ("mixed_other", "Any other Mixed or Multiple ethnic background", "mixed"),
    ("white_british", "English, Welsh, Scottish, Northern Irish or British", "white"),
    ("white_irish", "Irish", "white"),
    ("white_gypsy_irish_traveller", "Gypsy or Irish Traveller", "white"),
    ("white_roma", "Roma", "white"),
    ("white_other", "Any other White background", "white"),
    ("other_arab", "Arab", "other"),
    ("other_any", "Any other ethnic group", "other"),
    ("not_stated", "Not stated", "not_stated"),
)

ETHNICITIES: Final = _codes(*((code, label) for code, label, _ in _ETHNICITY_ROWS))
_ETHNIC_GROUP_OF: Final = {code: group for code, _, group in _ETHNICITY_ROWS}

CONSENT_STATUSES: Final = _codes(
    ("given", "Consent given"),
    ("withdrawn", "Consent withdrawn"),
    ("not_asked", "Not asked yet"),
)

SESSION_TYPES: Final = _codes(
    ("one_to_one", "One-to-one"),
    ("group", "Group"),
    ("outreach", "Outreach"),
)

MODES: Final = _codes(
    ("in_person", "In person"),
    ("online", "Online"),
    ("phone", "Phone"),
)

ATTENDANCE_STATUSES: Final = _codes(
    ("attended", "Attended"),
    ("absent", "Absent"),
    ("late", "Arrived late"),
    ("left_early", "Left early"),
)

#: attendance statuses that mean the person was there for at least part of the session
PRESENT_STATUSES: Final = frozenset({"attended", "late", "left_early"})

SESSION_STATUSES: Final = _codes(
    ("planned", "Planned"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled"),
)

TIMEPOINTS: Final = _codes(
    ("baseline", "Baseline"),
    ("review", "Review"),
    ("exit", "Exit"),
)

AGE_BANDS: Final = ("under 10", "10-13", "14-15", "16-17", "18-20", "21-24", "25+")
_AGE_BAND_FLOORS: Final = ((25, "25+"), (21, "21-24"), (18, "18-20"), (16, "16-17"), (14, "14-15"))


def ethnic_group(code: str) -> str:
    """The top-level ONS group code for an ethnicity code; returns count by group, not category."""
    try:
        return _ETHNIC_GROUP_OF[code]
    except KeyError:
        raise ValueError(f"'{code}' is not a known ethnicity code") from None


def age_on(dob: date, on_date: date) -> int:
    """Whole years of age on ``on_date``.

    Someone born on 29 February turns a year older on 1 March in a non-leap year, the usual
    convention in England and Wales; comparing (month, day) tuples gives exactly that.
    """
    if on_date < dob:
        raise ValueError("the date is before the date of birth")
    before_birthday = (on_date.month, on_date.day) < (dob.month, dob.day)
    return on_date.year - dob.year - int(before_birthday)


def age_band(date_of_birth: date, on_date: date) -> str:
    """The reporting age band on a date; returns use these bands, never the birth date."""
    age = age_on(date_of_birth, on_date)
    for floor, band in _AGE_BAND_FLOORS:
        if age >= floor:
            return band
    return "10-13" if age >= 10 else "under 10"


# Outward code shapes A9, A99, A9A, AA9, AA99, AA9A with the letters Royal Mail allows there.
_OUTWARD = r"(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL_RE: Final = re.compile(rf"({_OUTWARD}|GIR)({_INWARD})")
_OUTWARD_RE: Final = re.compile(_OUTWARD)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def postcode_district(postcode: str | None) -> str | None:
    """The outward code ("SW1A") of a full UK postcode or of a bare district; None for junk.

    Only the district is shareable, so this is what leaves the device.
    """
    if not isinstance(postcode, str):
        return None
    squashed = _squash(postcode)
    full = _FULL_RE.fullmatch(squashed)
    if full:
        return full.group(1)
    if _OUTWARD_RE.fullmatch(squashed):
        return squashed
    return None


def is_full_postcode(text: str | None) -> bool:
    """True when ``text`` is a whole postcode, which must not be stored as a district."""
    return isinstance(text, str) and _FULL_RE.fullmatch(_squash(text)) is not None
