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
from vrp_desktop.spreadsheets.activity import ActivityChecker
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
    #: "" for the register; "Sessions", "Attendance" or "Questionnaires" for the others
    kind: str = ""

    def message(self) -> str:
        where = f"{self.kind} row" if self.kind else "Row"
        return f"{where} {self.row}: " + "; ".join(self.reasons)


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
    #: the other sheets read: kind ("Sessions", ...) -> sheet name
    other_sheets: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.bad

    def count(self, action: str) -> int:
        return sum(c.action == action for c in self.changes)

    def summary(self) -> str:
        """One line: how many rows add, update and leave things as they are."""

        def rows(n: int, one: str, many: str) -> str:
            return f"{n:,} row {one}" if n == 1 else f"{n:,} rows {many}"

        return ", ".join(
            (
                rows(self.count("new"), "adds records", "add records"),
                rows(self.count("update"), "updates records already there", "update records "
                     "already there"),
                rows(self.count("unchanged"), "changes nothing", "change nothing"),
            )
        )  # fmt: skip


#: how the other sheets are recognised when renamed: headings they must have
_KEYS = {
    "Sessions": {"session", "date", "session_type"},
    "Attendance": {"session", "status"},
    "Questionnaires": {"measure", "timepoint"},
}


def _mapping(values: list[Any], columns) -> tuple[dict[int, Column], list[str]]:
    by_header = {norm(c.header): c for c in columns} | {norm(c.key): c for c in columns}
    mapping: dict[int, Column] = {}
    ignored = []
    for j, value in enumerate(values):
        col = by_header.get(template.heading_key(value)) if value is not None else None
        if col is not None and col not in mapping.values():
            mapping[j] = col
        elif value is not None and norm(value):
            ignored.append(str(value).strip())
    return mapping, ignored


def _find_other(reader, kind: str, names: list[str]):
    """The sheet of one other kind (by name, else by its headings) as for ``_find_sheet``."""
    columns = template.SHEETS[kind]
    keys = _KEYS[kind]
    named = [n for n in names if norm(n) in (norm(kind), norm(kind.rstrip("s")))]
    for name in named + [n for n in names if n not in named]:
        for number, values in _head(reader.rows(name)):
            mapping, ignored = _mapping(values, columns)
            if keys <= {c.key for c in mapping.values()}:
                return name, number, mapping, ignored, values
    return None


def _find_sheet(reader, exclude=()) -> tuple[str, int, dict[int, Column], list[str], list[Any]]:
    """The register sheet (by name, or the first whose header we recognise), its header row,
    which column holds which field, and the header cells we ignore."""
    by_header = {norm(c.header): c for c in COLUMNS} | {norm(c.key): c for c in COLUMNS}
    names = reader.sheet_names()
    ordered = sorted(
        (n for n in names if n not in (template.LISTS, "Instructions", *exclude)),
        key=lambda n: n != template.SHEET,
    )
    best = None
    for name in ordered:
        for number, values in _head(reader.rows(name)):
            mapping: dict[int, Column] = {}
            ignored = []
            for j, value in enumerate(values):
                col = by_header.get(template.heading_key(value)) if value is not None else None
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
    others: dict[str, tuple] = {}
    with open_reader(path, engine) as reader:
        names = [n for n in reader.sheet_names() if n not in (template.LISTS, "Instructions")]
        for kind in ("Sessions", "Attendance", "Questionnaires"):
            found = _find_other(reader, kind, [n for n in names if n not in _used(others)])
            if found is not None:
                rows = [(k, v) for k, v in reader.rows(found[0]) if k > found[1]]
                if any(_filled(v, found[2]) for _, v in rows):
                    others[kind] = (*found, rows)
        try:
            sheet, header_row, mapping, ignored, header_values = _find_sheet(
                reader, exclude=_used(others)
            )
        except SpreadsheetError:
            if not others:
                raise
            sheet, header_row, mapping, ignored, header_values = "", 0, {}, [], []
        framework_hint = _template_framework(reader)
        rows = (
            [(number, values) for number, values in reader.rows(sheet) if number > header_row]
            if sheet
            else []
        )
        engine_name = reader.engine
    date_columns = [j for j, col in mapping.items() if col.kind == "date"]
    texts = [values[j] for _, values in rows for j in date_columns if j < len(values)]
    for _, _, omap, _, _, orows in others.values():
        dates = [j for j, col in omap.items() if col.kind == "date"]
        texts += [values[j] for _, values in orows for j in dates if j < len(values)]
    month_first = cells.detect_month_first(texts)
    checker = RegisterChecker(ws, framework_hint, month_first=month_first)
    plans: list[Plan] = []
    bad: list[BadRow] = []
    read = 0
    try:
        for k, (number, values) in enumerate(rows):
            cells_by_key = _cells(values, mapping)
            if not _filled(values, mapping):
                continue  # blank rows (and rows with only unrecognised columns) are skipped
            read += 1
            outcome = checker.check(number, cells_by_key)
            if isinstance(outcome, list):
                bad.append(BadRow(number, outcome))
            else:
                plans.append(outcome)
            if k % 1000 == 0:
                report("Checking rows", k, len(rows))
        if others:
            read += _check_others(checker, plans, others, bad)
    finally:
        checker.close()
    report("Checking rows", len(rows), len(rows))
    result = ImportReport(
        file=path.name,
        sheet=sheet or next(iter(others.values()))[0],
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
        other_sheets={kind: found[0] for kind, found in others.items()},
    )
    if bad:
        target = Path(errors_out) if errors_out else path.with_name(f"{path.stem}.errors.xlsx")
        tables = []
        if sheet:
            tables.append((sheet, "", header_values, rows, mapping))
        for kind, (name, _, omap, _, values, orows) in others.items():
            tables.append((name, kind, values, orows, omap))
        result.errors_copy = _write_errors_copy(target, tables, bad)
    people = [p.new_person for p in plans if p.new_person]
    enrolments = [p.new_enrolment for p in plans if p.new_enrolment]
    updates = [p for p in plans if p.person_update or p.enrolment_update]
    sessions = [p.session for p in plans if p.session]
    attendances = [a for p in plans for a in p.attendances]
    responses = [p.response for p in plans if p.response]
    if not dry_run and (people or enrolments or updates or sessions or responses):
        result.imported = bulk.bulk_insert(
            ws,
            participants=people,
            enrolments=enrolments,
            sessions=sessions,
            attendances=attendances,
            responses=responses,
            updates=apply_updates(ws, updates) if updates else None,
            action="spreadsheet.import",
            progress=progress,
        )
    return result


#: what an import can add or change (one, many), in the order a person reads it
_IMPORTED = (
    ("participants", "young person", "young people"),
    ("enrolments", "enrolment", "enrolments"),
    ("sessions", "session", "sessions"),
    ("attendances", "register line", "register lines"),
    ("responses", "questionnaire", "questionnaires"),
)
_UPDATED = (
    ("participants_updated", "young person", "young people"),
    ("enrolments_updated", "enrolment", "enrolments"),
)


def imported_summary(counts: dict[str, int] | None) -> str:
    """What an import did, naming only what it added or changed (a file of sessions alone
    said "Imported 0 young people and 0 enrolments")."""
    counts = counts or {}

    def listed(kinds) -> str:
        parts = [
            f"{counts[key]:,} {one if counts[key] == 1 else many}"
            for key, one, many in kinds
            if counts.get(key)
        ]
        return template.and_list(parts) if parts else ""

    added, updated = listed(_IMPORTED), listed(_UPDATED)
    if added and updated:
        return f"Imported {added}, and updated {updated}, in one step."
    if added or updated:
        return f"{'Imported' if added else 'Updated'} {added or updated} in one step."
    return "Nothing was imported."


def _used(others: dict[str, tuple]) -> tuple[str, ...]:
    return tuple(found[0] for found in others.values())


def _cells(values: list[Any], mapping: dict[int, Column]) -> dict[str, Any]:
    return {col.key: values[j] if j < len(values) else None for j, col in mapping.items()}


def _filled(values: list[Any], mapping: dict[int, Column]) -> bool:
    return any(_text(values[j]) is not None for j in mapping if j < len(values))


def _check_others(checker: RegisterChecker, plans: list[Plan], others, bad: list[BadRow]) -> int:
    """Sessions (with their registers) and questionnaires, after the register's rows."""
    activity = ActivityChecker(checker, plans)
    read = 0

    def each(kind):
        nonlocal read
        if kind not in others:
            return
        _, _, mapping, _, _, rows = others[kind]
        for number, values in rows:
            if _filled(values, mapping):
                read += 1
                yield number, _cells(values, mapping), list(mapping.values())

    for number, raw, columns in each("Sessions"):
        problems = activity.session_row(number, raw, columns)
        if problems:
            bad.append(BadRow(number, problems, "Sessions"))
    for number, raw, columns in each("Attendance"):
        problems = activity.attendance_row(number, raw, columns)
        if problems:
            bad.append(BadRow(number, problems, "Attendance"))
    session_plans, bad_sessions, bad_lines = activity.finish_sessions()
    plans += session_plans
    bad += [BadRow(n, r, "Sessions") for n, r in bad_sessions.items()]
    bad += [BadRow(n, r, "Attendance") for n, r in bad_lines.items()]
    for number, raw, columns in each("Questionnaires"):
        outcome = activity.response_row(number, raw, columns)
        if isinstance(outcome, list):
            bad.append(BadRow(number, outcome, "Questionnaires"))
        else:
            plans.append(outcome)
    return read


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


def _write_errors_copy(target: Path, tables, bad: list[BadRow]) -> Path:
    """A copy of each sheet with an Errors column, for fixing the rows and importing again
    (blank rows left out, so they cannot come back as errors)."""
    from vrp_desktop.returns.export import write_rows

    sheets = []
    for name, kind, header_values, rows, mapping in tables:
        by_row = {b.row: b for b in bad if b.kind == kind}
        width = max([len(header_values), *(len(v) for _, v in rows)])
        header = [(_text(v) or "") for v in header_values] + [""] * (width - len(header_values))

        def body(rows=rows, mapping=mapping, by_row=by_row, width=width):
            for number, values in rows:
                if not _filled(values, mapping):
                    continue
                padded = list(values) + [None] * (width - len(values))
                problem = by_row.get(number)
                yield [problem.message() if problem else None, number, *padded]

        title = f"{name[:20]} errors"
        sheets.append((title, ["Errors", "Row", *header], body(), len(rows)))
    target = target if target.suffix.lower() == ".xlsx" else target.with_suffix(".xlsx")
    write_rows(target, sheets, title="Rows that could not be imported")
    return target
