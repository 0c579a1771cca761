"""Importing a register from a spreadsheet: every row checked by the one validation engine,
every bad row reported with its reason, the good rows imported in one transaction (or none at
all on a dry run). Messy input is normal: text dates, stray spaces, any capitals, blank rows,
a title row or merged cells above the header, extra columns, a renamed sheet.

Messages name rows and columns, never the personal data typed in them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from openpyxl.utils.datetime import from_excel
from sqlalchemy import select

from vrp_desktop import codes
from vrp_desktop.ids import uuid7
from vrp_desktop.services import bulk
from vrp_desktop.services import frameworks as fw_service
from vrp_desktop.services.common import today
from vrp_desktop.services.pseudonyms import new_reference, pseudonym
from vrp_desktop.spreadsheets import template
from vrp_desktop.spreadsheets.reader import SpreadsheetError, open_reader
from vrp_desktop.spreadsheets.template import COLUMNS, Column
from vrp_desktop.store.models import Enrolment, Intervention, Participant
from vrp_desktop.validation.engine import validate_enrolment, validate_participant

Progress = Callable[[str, int, int], None]
HEADER_SEARCH_ROWS = 15
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %B %Y", "%d %b %Y")
_FIELD_HEADERS = {c.key: c.header for c in COLUMNS} | {
    "postcode_district": "Postcode",
    "intervention_id": "Intervention",
    "participant_id": "Row",
}


def _norm(text: Any) -> str:
    return re.sub(r"[\s_]+", " ", str(text).replace("*", "")).strip().casefold()


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
    #: participants already in the workspace that good rows enrol again
    existing_people: int = 0

    @property
    def ok(self) -> bool:
        return not self.bad


class _Codes:
    """Matches a cell to a code by code, label or display label, in any capitals and spacing."""

    def __init__(self, name: str, mapping: dict[str, str], extra: dict[str, str] | None = None):
        self.name = name
        self.labels = mapping
        self.index: dict[str, str] = {}
        for code, label in mapping.items():
            self.index.setdefault(_norm(code), code)
            self.index.setdefault(_norm(label), code)
        for key, code in (extra or {}).items():
            self.index.setdefault(_norm(key), code)

    def match(self, value: Any) -> str | None:
        return self.index.get(_norm(value))


def _matchers(lists: dict[str, dict[str, str]]) -> dict[str, _Codes]:
    plain_ethnicity = {}
    seen: dict[str, int] = {}
    for label in codes.ETHNICITIES.values():
        seen[_norm(label)] = seen.get(_norm(label), 0) + 1
    for code, label in codes.ETHNICITIES.items():
        if seen[_norm(label)] == 1:
            plain_ethnicity[label] = code
    return {
        name: _Codes(name, mapping, plain_ethnicity if name == "ethnicity" else None)
        for name, mapping in lists.items()
    }


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial day number typed into a General cell
            return from_excel(value).date()
        raise ValueError
    text = re.sub(r"\s+", " ", str(value)).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _find_sheet(reader) -> tuple[str, int, dict[int, Column], list[str], list[Any]]:
    """The register sheet (by name, or the first whose header we recognise), its header row,
    which column holds which field, and the header cells we ignore."""
    by_header = {_norm(c.header): c for c in COLUMNS} | {_norm(c.key): c for c in COLUMNS}
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
                col = by_header.get(_norm(value)) if value is not None else None
                if col is not None and col not in mapping.values():
                    mapping[j] = col
                elif value is not None and _norm(value):
                    ignored.append(str(value).strip())
            required_found = sum(c.required for c in mapping.values())
            if required_found >= 3 and (best is None or len(mapping) > len(best[2])):
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
    missing = [c.header for c in COLUMNS if c.required and c.key not in found]
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
    """Check every row; unless ``dry_run``, import the good ones in one transaction."""
    ws.require("record")
    path = Path(path)
    report = progress or (lambda *_: None)
    with open_reader(path, engine) as reader:
        sheet, header_row, mapping, ignored, header_values = _find_sheet(reader)
        framework_hint = _template_framework(reader)
        rows = [(number, values) for number, values in reader.rows(sheet) if number > header_row]
        engine_name = reader.engine
    checker = _RowChecker(ws, framework_hint)
    people: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    bad: list[BadRow] = []
    warnings = 0
    read = 0
    for k, (number, values) in enumerate(rows):
        if all(_text(v) is None for v in values):
            continue  # blank rows (and rows of spaces) are skipped
        read += 1
        cells = {col.key: values[j] if j < len(values) else None for j, col in mapping.items()}
        outcome = checker.check(cells)
        if isinstance(outcome, list):
            bad.append(BadRow(number, outcome))
        else:
            person, enrolment, n_warnings = outcome
            warnings += n_warnings
            if person is not None:
                people.append(person)
            enrolments.append(enrolment)
        if k % 1000 == 0:
            report("Checking rows", k, len(rows))
    report("Checking rows", len(rows), len(rows))
    result = ImportReport(
        file=path.name,
        sheet=sheet,
        engine=engine_name,
        header_row=header_row,
        rows_read=read,
        good_rows=len(enrolments),
        bad=bad,
        warnings=warnings,
        ignored_columns=ignored,
        dry_run=dry_run,
        existing_people=checker.existing_used,
    )
    if bad:
        target = Path(errors_out) if errors_out else path.with_name(f"{path.stem}.errors.xlsx")
        result.errors_copy = _write_errors_copy(
            target, sheet, header_values, header_row, rows, {b.row: b for b in bad}
        )
    if not dry_run and enrolments:
        result.imported = bulk.bulk_insert(
            ws,
            participants=people,
            enrolments=enrolments,
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


class _RowChecker:
    """Turns one row into a participant and an enrolment, or the reasons it cannot."""

    def __init__(self, ws, framework_hint: str | None) -> None:
        self.today = today()
        self.linkage = ws.setting("linkage_key")
        with ws.read() as session:
            self.interventions = list(
                session.scalars(select(Intervention).where(Intervention.active.is_(True)))
            )
            self.frameworks = {
                i.id: fw_service.get(session, i.framework_id, i.framework_version)
                for i in self.interventions
            }
            self.existing = dict(
                session.execute(
                    select(Participant.pseudonym, Participant.id).where(
                        Participant.pseudonym.is_not(None), Participant.erased_at.is_(None)
                    )
                ).all()
            )
            self.enrolled = {
                (pid, iid, start)
                for pid, iid, start in session.execute(
                    select(
                        Enrolment.participant_id, Enrolment.intervention_id, Enrolment.start_date
                    )
                )
            }
            self.references = set(session.scalars(select(Participant.reference)))
        self.by_name = {_norm(i.name): i for i in self.interventions}
        default = [i for i in self.interventions if i.framework_id == framework_hint]
        self.default_intervention = default[0] if len(default) == 1 else None
        self.matchers = _matchers(
            template.code_lists(list({f.id: f for f in self.frameworks.values()}.values()))
        )
        self.new_people: dict[str, str] = {}  # pseudonym -> new participant id
        self.existing_used = 0

    def _reference(self) -> str:
        while True:
            ref = new_reference()
            if ref not in self.references:
                self.references.add(ref)
                return ref

    def check(self, cells: dict[str, Any]):
        reasons: list[str] = []
        values: dict[str, Any] = {}
        for col in COLUMNS:
            raw = cells.get(col.key)
            if col.kind == "date":
                if _text(raw) is None:
                    values[col.key] = None
                    continue
                try:
                    values[col.key] = _date(raw)
                except (ValueError, OverflowError):
                    reasons.append(f"{col.header} is not a date: use dd/mm/yyyy, e.g. 25/11/2026")
            elif col.kind == "code":
                text = _text(raw)
                if text is None:
                    values[col.key] = None
                    continue
                code = self.matchers[col.codes].match(text)
                if code is None:
                    reasons.append(f"{col.header} '{text}' is not one of the list's choices")
                values[col.key] = code
            else:
                values[col.key] = _text(raw)
        intervention = self._intervention(values.pop("intervention"), reasons)
        postcode = values.pop("postcode")
        district = codes.postcode_district(postcode) if postcode else None
        if postcode and district is None:
            reasons.append("Postcode is not a UK postcode or postcode district")
        if reasons or intervention is None:
            return reasons or ["Intervention is required"]
        framework = self.frameworks[intervention.id]
        person = {
            key: values[key]
            for key in (
                "first_name",
                "last_name",
                "preferred_name",
                "date_of_birth",
                "gender",
                "ethnicity",
                "consent_status",
                "consent_date",
                "phone",
                "email",
            )
        }
        person["postcode_district"] = district
        found = validate_participant(person, today=self.today, framework=framework)
        enrolment = {
            key: values[key]
            for key in ("referral_source", "referral_date", "start_date", "end_date", "exit_reason")
        }
        enrolment.update(intervention_id=intervention.id, exit_detail=None)
        enrolment["participant_id"] = "pending"
        found += validate_enrolment(
            enrolment, participant=person, framework=framework, today=self.today
        )
        errors = [f for f in found if f.severity == "error"]
        if errors:
            return [f"{_FIELD_HEADERS.get(f.field, f.field)}: {f.message}" for f in errors]
        key = pseudonym(
            self.linkage, person["first_name"], person["last_name"], person["date_of_birth"]
        )
        new_person = None
        if key in self.existing:
            pid = self.existing[key]
            self.existing_used += 1
        elif key in self.new_people:
            pid = self.new_people[key]
        else:
            pid = uuid7()
            self.new_people[key] = pid
            new_person = {**person, "id": pid, "reference": self._reference()}
        slot = (pid, intervention.id, enrolment["start_date"])
        if slot in self.enrolled:
            if new_person is not None:
                del self.new_people[key]
            return [
                "This young person already has this intervention from this start date "
                "(in the workspace or earlier in the sheet)"
            ]
        self.enrolled.add(slot)
        enrolment.update(id=uuid7(), participant_id=pid)
        return new_person, enrolment, len(found)

    def _intervention(self, name: str | None, reasons: list[str]):
        if name is None:
            if self.default_intervention is not None:
                return self.default_intervention
            reasons.append("Intervention is required: " + self._choices())
            return None
        found = self.by_name.get(_norm(name))
        if found is None:
            reasons.append(
                f"Intervention '{name}' is not one of this workspace's: " + self._choices()
            )
        return found

    def _choices(self) -> str:
        return ", ".join(sorted(i.name for i in self.interventions)) or "(none set up yet)"


def _write_errors_copy(target, sheet, header_values, header_row, rows, bad_by_row) -> Path:
    """A copy of the sheet with an Errors column, for fixing the rows and importing again."""
    from vrp_desktop.returns.export import write_rows

    width = max([len(header_values), *(len(v) for _, v in rows)]) if rows else len(header_values)
    header = [(_text(v) or "") for v in header_values] + [""] * (width - len(header_values))

    def body():
        for number, values in rows:
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
