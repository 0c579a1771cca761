"""Importing a register from a spreadsheet: every row checked by the one validation engine,
every problem of every bad row reported, the good rows imported in one transaction (or none at
all on a dry run). Messy input is normal: text dates, stray spaces, any capitals, blank rows,
a title row or merged cells above the header, extra columns, a renamed sheet; .xlsx, .ods,
.xls and .csv files.

A row for someone already in the workspace updates them (see ``register``); the report lists
every change, so a dry run is the preview.

Messages name rows and columns, never the personal data typed in them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vrp_desktop.services import bulk
from vrp_desktop.spreadsheets import cells, template
from vrp_desktop.spreadsheets.codelists import norm
from vrp_desktop.spreadsheets.reader import SpreadsheetError, open_reader
from vrp_desktop.spreadsheets.register import Change, Plan, RegisterChecker, apply_updates
from vrp_desktop.spreadsheets.template import COLUMNS, Column

Progress = Callable[[str, int, int], None]
HEADER_SEARCH_ROWS = 15
#: the columns that say who a row is about; a sheet needs these (or a Reference column)
_WHO = ("first_name", "last_name", "date_of_birth")
_ALWAYS = ("intervention", "start_date")
_text = cells.text
_norm = norm


@dataclasses.dataclass
class BadRow:
    row: int
    reasons: list[str]

    def message(self) -> str:
        return f"Row {self.row}: " + "; ".join(self.reasons)


@dataclasses.dataclass
class ImportReport:
    file: str
    sheet: str
    engine: str
    header_row: int
    rows_read: int
    good_rows: int
    bad: list[BadRow]
    warnings: int
    ignored_columns: list[str]
    dry_run: bool
    imported: dict[str, int] | None = None
    errors_copy: Path | None = None
    #: participants already in the workspace that good rows enrol again or update
    existing_people: int = 0
    #: what each good row does (new, update, unchanged): the preview
    changes: list[Change] = dataclasses.field(default_factory=list)
    #: "day/month/year" or "month/day/year": how text dates were read
    date_order: str = "day/month/year"

    @property
    def ok(self) -> bool:
        return not self.bad

    def count(self, action: str) -> int:
        return sum(c.action == action for c in self.changes)

    def summary(self) -> str:
        """One line: how many rows add, update and leave things as they are."""
        return (
            f"{self.count('new'):,} rows add records, {self.count('update'):,} update records "
            f"already there, {self.count('unchanged'):,} change nothing"
        )


def _find_sheet(reader) -> tuple[str, int, dict[int, Column], list[str], list[Any]]:
    """The register sheet (by name, or the first whose header we recognise), its header row,
    which column holds which field, and the header cells we ignore."""
    by_header = {norm(c.header): c for c in COLUMNS} | {norm(c.key): c for c in COLUMNS}
    names = reader.sheet_names()
    ordered = sorted(
        (n for n in names if n not in (template.LISTS, "Instructions")),
        key=lambda n: n != template.SHEET,
    )
    best = None
    for name in ordered:
        for number, values in _head(reader.rows(name)):
            mapping: dict[int, Column] = {}
            ignored = []
            for j, value in enumerate(values):
                col = by_header.get(norm(value)) if value is not None else None
                if col is not None and col not in mapping.values():
                    mapping[j] = col
                elif value is not None and norm(value):
                    ignored.append(str(value).strip())
            keys = {c.key for c in mapping.values()}
            recognised = sum(c.required for c in mapping.values()) + ("reference" in keys)
            if recognised >= 3 and (best is None or len(mapping) > len(best[2])):
                best = (name, number, mapping, ignored, values)
        if best is not None:
            break
    if best is None:
        raise SpreadsheetError(
            "No sheet in this workbook has the register's column headings (looked at: "
            + ", ".join(names)
            + "). Start from the template ('vrp import template'), keep its header row, and "
            "paste your rows under it. Nothing was imported."
        )
    found = {c.key for c in best[2].values()}
    needed = [*_ALWAYS] if "reference" in found else [*_WHO, *_ALWAYS]
    missing = [c.header for c in COLUMNS if c.key in needed and c.key not in found]
    if missing:
        raise SpreadsheetError(
            f"The sheet '{best[0]}' has no column for: {', '.join(missing)} (its header is "
            f"row {best[1]}). Add those columns with the template's headings. Nothing was "
            "imported."
        )
    return best


def _head(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for number, values in rows:
        if number > HEADER_SEARCH_ROWS:
            return
        yield number, values


def import_xlsx(
    ws,
    path: Path,
    *,
    dry_run: bool = False,
    errors_out: Path | None = None,
    engine: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of a register (.xlsx, .ods, .xls or .csv); unless ``dry_run``, import
    the good ones (new records and updates) in one transaction."""
    ws.require("record")
    path = Path(path)
    report = progress or (lambda *_: None)
    with open_reader(path, engine) as reader:
        sheet, header_row, mapping, ignored, header_values = _find_sheet(reader)
        framework_hint = _template_framework(reader)
        rows = [(number, values) for number, values in reader.rows(sheet) if number > header_row]
        engine_name = reader.engine
    date_columns = [j for j, col in mapping.items() if col.kind == "date"]
    month_first = cells.detect_month_first(
        values[j] for _, values in rows for j in date_columns if j < len(values)
    )
    checker = RegisterChecker(ws, framework_hint, month_first=month_first)
    plans: list[Plan] = []
    bad: list[BadRow] = []
    read = 0
    try:
        for k, (number, values) in enumerate(rows):
            cells_by_key = {
                col.key: values[j] if j < len(values) else None for j, col in mapping.items()
            }
            if all(_text(v) is None for v in cells_by_key.values()):
                continue  # blank rows (and rows with only unrecognised columns) are skipped
            read += 1
            outcome = checker.check(number, cells_by_key)
            if isinstance(outcome, list):
                bad.append(BadRow(number, outcome))
            else:
                plans.append(outcome)
            if k % 1000 == 0:
                report("Checking rows", k, len(rows))
    finally:
        checker.close()
    report("Checking rows", len(rows), len(rows))
    result = ImportReport(
        file=path.name,
        sheet=sheet,
        engine=engine_name,
        header_row=header_row,
        rows_read=read,
        good_rows=len(plans),
        bad=bad,
        warnings=sum(p.warnings for p in plans if p.change.action != "unchanged"),
        ignored_columns=ignored,
        dry_run=dry_run,
        existing_people=checker.existing_used,
        changes=[p.change for p in plans],
        date_order="month/day/year" if month_first else "day/month/year",
    )
    if bad:
        target = Path(errors_out) if errors_out else path.with_name(f"{path.stem}.errors.xlsx")
        used = set(mapping)
        result.errors_copy = _write_errors_copy(
            target, sheet, header_values, header_row, rows, {b.row: b for b in bad}, used
        )
    people = [p.new_person for p in plans if p.new_person]
    enrolments = [p.new_enrolment for p in plans if p.new_enrolment]
    updates = [p for p in plans if p.person_update or p.enrolment_update]
    if not dry_run and (people or enrolments or updates):
        result.imported = bulk.bulk_insert(
            ws,
            participants=people,
            enrolments=enrolments,
            updates=apply_updates(ws, updates) if updates else None,
            action="spreadsheet.import",
            progress=progress,
        )
    return result


def _template_framework(reader) -> str | None:
    """The framework a template was made for (kept on its hidden Lists sheet), if any."""
    if template.LISTS not in reader.sheet_names():
        return None
    head = dict(_head(reader.rows(template.LISTS)))
    names, values = head.get(1, []), head.get(2, [])
    if "framework" not in names:
        return None
    j = names.index("framework")
    return _text(values[j]) if j < len(values) else None


def _write_errors_copy(
    target, sheet, header_values, header_row, rows, bad_by_row, used: set[int]
) -> Path:
    """A copy of the sheet with an Errors column, for fixing the rows and importing again
    (blank rows left out, so they cannot come back as errors)."""
    from vrp_desktop.returns.export import write_rows

    width = max([len(header_values), *(len(v) for _, v in rows)]) if rows else len(header_values)
    header = [(_text(v) or "") for v in header_values] + [""] * (width - len(header_values))

    def body():
        for number, values in rows:
            if all(_text(v) is None for j, v in enumerate(values) if j in used):
                continue
            padded = list(values) + [None] * (width - len(values))
            problem = bad_by_row.get(number)
            yield [problem.message() if problem else None, number, *padded]

    target = target if target.suffix.lower() == ".xlsx" else target.with_suffix(".xlsx")
    write_rows(
        target,
        [(f"{sheet[:20]} errors", ["Errors", "Row", *header], body(), len(rows))],
        title="Rows that could not be imported",
    )
    return target
