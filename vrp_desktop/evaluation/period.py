"""The period an evaluation covers: a UK financial year ("2026-27") or one quarter of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from vrp_desktop.errors import VrpError
from vrp_desktop.returns.quarters import NotAQuarter, check_year, parse_quarter, quarter_of

_YEAR = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*$")


@dataclasses.dataclass(frozen=True)
class Period:
    """Inclusive dates; ``start`` is also the day age bands are worked out on."""

    label: str
    start: dt.date
    end: dt.date

    @property
    def months(self) -> str:
        return f"{self.start:%B %Y} to {self.end:%B %Y}"


def financial_year(first: int) -> Period:
    return Period(
        f"{first}-{(first + 1) % 100:02d}", dt.date(first, 4, 1), dt.date(first + 1, 3, 31)
    )


def parse_period(text: str) -> Period:
    """Read "2026-27" (a financial year, also "2026/27", "2026-2027") or a quarter "2026-27 Q3"."""
    raw = (text or "").strip()
    match = _YEAR.match(raw)
    if match:
        first, second = int(match[1]), int(match[2])
        check_year(raw, first)
        if second not in (first + 1, (first + 1) % 100):
            raise VrpError(
                f"{raw!r} is not a financial year: the second year must follow the first "
                f'({first}-{(first + 1) % 100:02d}). Use e.g. "2026-27" or "2026-27 Q3".'
            )
        return financial_year(first)
    try:
        q = parse_quarter(raw)  # its own message for a quarter mistyped, or "2026Q3"
    except NotAQuarter as exc:
        raise VrpError(
            f'{raw!r} is not a period. Use a financial year such as "2026-27", or a quarter such '
            f'as "2026-27 Q3".'
        ) from exc
    return Period(q.label, q.start, q.end)


def recent_years(today: dt.date | None = None, count: int = 4) -> list[Period]:
    """The current financial year and the ones before it, newest first (for pickers)."""
    current = quarter_of(today or dt.date.today()).year
    return [financial_year(current - k) for k in range(count)]
