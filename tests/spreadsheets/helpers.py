"""Filled-in templates and a before/after snapshot of the store for the import tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from sqlalchemy import text

from vrp_desktop.spreadsheets.template import COLUMNS, build_template

HEADERS = [c.header for c in COLUMNS]


def headings(sheet) -> list[str]:
    """A template sheet's column headings without their required marks (" *", " (*)")."""
    return [str(c.value).removesuffix(" *").removesuffix(" (*)") for c in sheet[1]]


GOOD = {
    "First name": "Amara",
    "Last name": "Mensah",
    "Preferred name": None,
    "Date of birth": dt.date(2012, 3, 4),
    "Gender": "Female",
    "Ethnicity": "Black: African",
    "Postcode": "B5 4TJ",
    "Consent status": "Consent given",
    "Consent date": dt.date(2026, 1, 8),
    "Phone": None,
    "Email": None,
    "Intervention": "Trusted Mentors",
    "Referral source": "School or college",
    "Referral date": dt.date(2026, 1, 5),
    "Start date": dt.date(2026, 1, 10),
    "End date": None,
    "Exit reason": None,
    "Exit detail": None,
    "Reference": None,
}


def person(n: int, **changes) -> dict:
    row = dict(GOOD)
    row["First name"] = f"Amara{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}"
    row.update(changes)
    return row


def filled_template(path: Path, rows: list[dict | None], *, sheet_title: str | None = None) -> Path:
    """The app's template with ``rows`` under the header (None = a blank row)."""
    wb = build_template()
    sheet = wb["Register"]
    for i, row in enumerate(rows, start=2):
        if row is None:
            continue
        for j, header in enumerate(HEADERS, start=1):
            sheet.cell(i, j, row.get(header))
    if sheet_title:
        sheet.title = sheet_title
    wb.save(path)
    return path


def plain_workbook(
    path: Path,
    header: list,
    rows: list[list],
    *,
    title: str = "Sheet1",
    before: list[list] | None = None,
    merges: list[str] = (),
) -> Path:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = title
    for row in before or []:
        sheet.append(row)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    wb.save(path)
    return path


def snapshot(ws) -> dict:
    """Counts of every record table and the audit log's last hash: equal means nothing changed."""
    with ws.engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in (
                "participant",
                "enrolment",
                "session",
                "attendance",
                "outcome_response",
                "participant_search_token",
                "audit_event",
            )
        }
        counts["audit_last"] = conn.execute(
            text("SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    return counts
