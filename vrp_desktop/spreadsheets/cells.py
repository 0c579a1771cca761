"""Turning one spreadsheet cell into a value: text trimmed, dates in any form a person types.

Day/month order is decided once per file (``DateOrder``): UK order unless the file's text
dates can only be month-first (a US-style CSV), which is then said in the report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from openpyxl.utils.datetime import from_excel

_DAY_FIRST = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %B %Y", "%d %b %Y")
_MONTH_FIRST = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m.%d.%Y", "%m/%d/%y", "%B %d %Y", "%b %d %Y")
_NUMERIC = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:[ T].*)?$")
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$")


def text(value: Any) -> str | None:
    """A cell as trimmed text with inner runs of spaces made single; blank is None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    out = re.sub(r"\s+", " ", str(value)).strip()
    return out or None


def detect_month_first(values: Iterable[Any]) -> bool:
    """True when the text dates given can only be month/day/year (some have a "day" above 12
    in the second place and none in the first)."""
    day_first = month_first = 0
    for value in values:
        if not isinstance(value, str):
            continue
        found = _NUMERIC.match(value)
        if not found:
            continue
        a, b = int(found.group(1)), int(found.group(2))
        if a > 12 >= b:
            day_first += 1
        elif b > 12 >= a:
            month_first += 1
    return month_first > 0 and day_first == 0


def date(value: Any, month_first: bool = False) -> dt.date:
    """A date from a real date, an Excel day number, or text; ValueError if it is none."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial day number typed into a General cell
            return from_excel(value).date()
        raise ValueError
    raw = re.sub(r"\s+", " ", str(value)).strip().replace(",", "")
    raw = _TIME_TAIL.sub("", raw)  # "04/03/2011 00:00:00" from a CSV of a date cell
    for fmt in _MONTH_FIRST if month_first else _DAY_FIRST:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError
