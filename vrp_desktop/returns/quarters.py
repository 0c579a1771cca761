"""UK financial quarters (April to March): "2026-27 Q3" is October to December 2026.

The one period type of the app: returns, batch labels (``Batch.period``, the manifest's
``period``) and the command line all use ``Quarter`` and its ``label``. Batches built before
this was so were labelled by calendar quarter ("2026-Q4"); ``stored_quarter`` reads those too, so
a return still lists them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from vrp_desktop.errors import VrpError

ACCEPTED_FORMS = '"2026-27 Q3", "2026-27Q3" or "2026/27 Q3"'

_FORM = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*Q\s*([1-4])\s*$", re.IGNORECASE)
_AMBIGUOUS = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*Q\s*([1-4])\s*$", re.IGNORECASE)
#: how batches were labelled before one Quarter type: the calendar quarter, "2026-Q4"
_CALENDAR_LABEL = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclasses.dataclass(frozen=True, order=True)
class Quarter:
    """Quarter ``number`` (1-4) of the financial year that starts on 1 April ``year``."""

    year: int
    number: int

    @property
    def start(self) -> dt.date:
        month = 4 + 3 * (self.number - 1)
        return dt.date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the quarter (inclusive)."""
        return self.next().start - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d} Q{self.number}"

    @property
    def calendar_label(self) -> str:
        """The calendar-quarter label older batches carry ("2026-Q4" for "2026-27 Q3")."""
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def stored_labels(self) -> tuple[str, str]:
        """Every label a stored batch of this quarter may carry (current first)."""
        return (self.label, self.calendar_label)

    @property
    def months(self) -> str:
        return f"{self.start:%B %Y} to {self.end:%B %Y}"

    def next(self) -> Quarter:
        return Quarter(self.year + (self.number == 4), self.number % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    def __str__(self) -> str:
        return self.label


def quarter_of(day: dt.date) -> Quarter:
    """The financial quarter a date falls in."""
    year = day.year if day.month >= 4 else day.year - 1
    return Quarter(year, (day.month - 4) % 12 // 3 + 1)


def last_complete(today: dt.date | None = None) -> Quarter:
    """The most recent quarter that has ended: what a return is normally made for."""
    return quarter_of(today or dt.date.today()).previous()


def calendar_quarter(year: int, number: int) -> Quarter:
    """The financial quarter that is calendar quarter ``number`` of ``year``."""
    return quarter_of(dt.date(year, 3 * number - 2, 1))


def stored_quarter(label: str | None) -> Quarter | None:
    """The quarter a stored batch label means: "2026-27 Q3", or an older "2026-Q4" (which
    batch build wrote as the calendar quarter). None for anything else."""
    if not label:
        return None
    old = _CALENDAR_LABEL.match(label.strip())
    if old:
        return calendar_quarter(int(old[1]), int(old[2]))
    try:
        return parse_quarter(label)
    except VrpError:
        return None


def display_period(label: str | None) -> str:
    """A stored batch label as people read it now (older calendar labels translated)."""
    quarter = stored_quarter(label)
    return quarter.label if quarter else (label or "")


#: the financial years a period may start in (``datetime`` stops at 9999; year 0 is none)
FIRST_YEAR, LAST_YEAR = 1900, 2998


class NotAQuarter(VrpError):
    """The text is no form of a quarter at all (not a mistyped or ambiguous one)."""


def check_year(raw: str, first: int) -> None:
    if not FIRST_YEAR <= first <= LAST_YEAR:
        raise VrpError(
            f"{raw!r} is not a financial year that can be reported on: the first year must be "
            f"between {FIRST_YEAR} and {LAST_YEAR}. Use e.g. {ACCEPTED_FORMS}."
        )


def parse_quarter(text: str | Quarter) -> Quarter:
    """Read "2026-27 Q3" (also "2026-27Q3", "2026/27 Q3", "2026-2027 Q3").

    "2026Q3" is refused with both meanings spelled out: it could mean the third calendar
    quarter or the third financial one.
    """
    if isinstance(text, Quarter):
        return text
    raw = (text or "").strip()
    match = _FORM.match(raw)
    if match:
        first, second, number = int(match[1]), match[2], int(match[3])
        check_year(raw, first)
        expected = first + 1
        if int(second) not in (expected, expected % 100):
            raise VrpError(
                f"{raw!r} is not a financial year: the second year must follow the first "
                f"({first}-{expected % 100:02d}). Use e.g. {ACCEPTED_FORMS}."
            )
        return Quarter(first, number)
    ambiguous = _AMBIGUOUS.match(raw)
    if ambiguous:
        year, number = int(ambiguous[1]), int(ambiguous[2])
        check_year(raw, year)
        financial = Quarter(year, number)
        calendar = calendar_quarter(year, number)
        raise VrpError(
            f"{raw!r} is ambiguous. Did you mean the financial quarter {financial.label} "
            f"({financial.months}), or calendar quarter {number} of {year}, which is "
            f"{calendar.label} ({calendar.months})? Type the financial year form, "
            f"e.g. {ACCEPTED_FORMS}."
        )
    raise NotAQuarter(
        f"{raw!r} is not a quarter. Use the financial year form, e.g. {ACCEPTED_FORMS}."
    )
