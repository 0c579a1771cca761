"""The published tables of an evaluation: what the page, the workbook and the PDF read.

Kept apart from ``build`` (which needs scipy) so the window can draw a pack without loading
the numeric library on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from vrp_desktop.evaluation.period import Period

COUNT, SHARE, MEAN, DAYS, RHO = "#,##0", "0.0%", "0.00", "0", "0.00"
STAGES = ("Referred", "Enrolled", "Attended at least once", "Baseline", "Exit", "Paired")


@dataclasses.dataclass
class Table:
    """One published table: header, a number format per column, rows of protected values.
    Every row starts with the unit's level and name."""

    key: str
    title: str
    explanation: str
    header: list[str]
    formats: list[str]
    rows: list[list[Any]] = dataclasses.field(default_factory=list)

    def column(self, name: str) -> int:
        return self.header.index(name)

    def rows_for(self, level: str, unit: str) -> list[list[Any]]:
        return [row for row in self.rows if row[0] == level and row[1] == unit]


@dataclasses.dataclass
class Pack:
    title: str
    subtitle: str
    period: Period
    kind: str
    threshold: int
    created: dt.datetime
    units: list[tuple[str, str]]  # (level, name), whole first
    tables: dict[str, Table]
    notes: list[tuple[str, str]]
    sources: list[list[Any]]
