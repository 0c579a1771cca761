"""The import template: a register sheet with drop-down lists from the code lists, and a sheet
of instructions. The importer reads the same column definitions, so they cannot drift apart."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from vrp_desktop import __version__, codes
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import VrpError
from vrp_desktop.frameworks.models import Framework
from vrp_desktop.spreadsheets.codelists import FRAMEWORK_LISTS, ethnicity_label, norm

SHEET = "Register"
LISTS = "Lists"
ROWS_WITH_LISTS = 5000


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    #: "text", "date" or "code"
    kind: str = "text"
    #: for codes: the list's name ("gender", "ethnicity", "consent", "referral", "exit")
    codes: str | None = None
    width: int = 16
    help: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("first_name", "First name", True, width=16),
    Column("last_name", "Last name", True, width=16),
    Column("preferred_name", "Preferred name", width=16),
    Column(
        "date_of_birth", "Date of birth", True, "date", width=14, help="dd/mm/yyyy, e.g. 04/03/2011"
    ),
    Column("gender", "Gender", True, "code", "gender", width=16),
    Column("ethnicity", "Ethnicity", True, "code", "ethnicity", width=44),
    Column(
        "postcode",
        "Postcode",
        width=11,
        help="full postcode or district (only the district is kept for reporting)",
    ),
    Column("consent_status", "Consent status", True, "code", "consent", width=18),
    Column(
        "consent_date", "Consent date", kind="date", width=14, help="needed when consent was given"
    ),
    Column("phone", "Phone", width=14),
    Column("email", "Email", width=24),
    Column(
        "intervention",
        "Intervention",
        True,
        width=28,
        help="the intervention's name as it appears in VRP Desktop",
    ),
    Column("referral_source", "Referral source", True, "code", "referral", width=28),
    Column("referral_date", "Referral date", True, "date", width=14),
    Column("start_date", "Start date", True, "date", width=14),
    Column("end_date", "End date", kind="date", width=14, help="when they left, if they have"),
    Column(
        "exit_reason",
        "Exit reason",
        kind="code",
        codes="exit",
        width=24,
        help="needed with an end date",
    ),
    Column(
        "exit_detail",
        "Exit detail",
        width=28,
        help="a few words when the exit reason is Other (no names or personal details)",
    ),
    Column(
        "reference",
        "Reference",
        width=14,
        help="the young person's VRP Desktop reference, to update someone already there "
        "(or leave blank: name and date of birth find them)",
    ),
)

_WHO = (
    Column("reference", "Reference", width=14, help="their VRP Desktop reference, or:"),
    Column("first_name", "First name", width=16, help="with last name and date of birth"),
    Column("last_name", "Last name", width=16),
    Column("date_of_birth", "Date of birth", kind="date", width=14),
)
#: the Sessions sheet: one row per session; "Session" is the row's own label, used by the
#: Attendance sheet to put people on its register
SESSION_COLUMNS: tuple[Column, ...] = (
    Column("session", "Session", True, width=10, help="your label for it, e.g. S1 (unique)"),
    Column("intervention", "Intervention", True, width=28),
    Column("date", "Date", True, "date", width=14),
    Column("start_time", "Start time", True, width=10, help="hh:mm, e.g. 18:30"),
    Column("duration_minutes", "Duration (minutes)", True, width=12),
    Column("session_type", "Session type", True, "code", "session_type", width=14),
    Column("mode", "Mode", True, "code", "mode", width=12),
    Column("location_type", "Location type", True, "code", "location", width=24),
    Column("activities", "Activities", width=28, help="from the framework's list; several: a; b"),
    Column(
        "status", "Status", kind="code", codes="session_status", width=12, help="blank: Delivered"
    ),
    Column("notes", "Notes", width=28, help="why, when cancelled (no names)"),
)
#: the Attendance sheet: one row per person on a session's register
ATTENDANCE_COLUMNS: tuple[Column, ...] = (
    Column("session", "Session", True, width=10, help="the label on the Sessions sheet"),
    *_WHO,
    Column("status", "Attendance", True, "code", "attendance", width=14),
)
QUESTIONS = 25
#: the Questionnaires sheet: one row per completed questionnaire, answers in Q1, Q2...
RESPONSE_COLUMNS: tuple[Column, ...] = (
    *_WHO,
    Column("intervention", "Intervention", True, width=28),
    Column("measure", "Questionnaire", True, "code", "measure", width=30),
    Column("timepoint", "Timepoint", True, "code", "timepoint", width=12),
    Column("completed_on", "Completed on", True, "date", width=14),
    *(
        Column(f"q{n}", f"Q{n}", width=5, help="the answer's number or words")
        for n in range(1, QUESTIONS + 1)
    ),
)
#: sheet name -> its columns, for every kind of row the importer reads
SHEETS = {
    "Register": None,  # COLUMNS, below
    "Sessions": SESSION_COLUMNS,
    "Attendance": ATTENDANCE_COLUMNS,
    "Questionnaires": RESPONSE_COLUMNS,
}

#: columns a row for someone already in the workspace may leave blank (blank = keep)
PERSON_KEYS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "ethnicity",
    "postcode",
    "consent_status",
    "consent_date",
    "phone",
    "email",
)


#: a Sessions column the template leaves optional, and the framework field that can require it
#: (Status is left out: blank means Delivered)
FRAMEWORK_REQUIRED_SESSION = {"activities": "activities", "notes": "notes"}
#: the mark on a heading some frameworks in the template require and others do not
SOME_REQUIRE = " (*)"


def heading_key(value: Any) -> str:
    """A header cell as the importer compares it: ``norm``, without a "required" mark."""
    text = str(value).rstrip()
    if text.endswith(SOME_REQUIRE.strip()):
        text = text[: -len(SOME_REQUIRE.strip())]
    return norm(text)


def session_marks(run_under: Sequence[tuple[str, Framework]]) -> dict[str, tuple[str, list[str]]]:
    """Sessions columns required by the frameworks of ``run_under`` ((what a worker calls it,
    its framework): an intervention, or a framework by its own name): key -> (mark, the names
    that require it). " *" when every one requires it, " (*)" when only some do."""
    marks: dict[str, tuple[str, list[str]]] = {}
    for key, field in FRAMEWORK_REQUIRED_SESSION.items():
        needing = [name for name, f in run_under if field in f.required.session]
        if needing:
            marks[key] = (" *" if len(needing) == len(run_under) else SOME_REQUIRE, needing)
    return marks


def and_list(names: Sequence[str]) -> str:
    """``["a", "b", "c"]`` as "a, b and c", as the template and the import summary say it."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def code_lists(
    frameworks: list[Framework], interventions: Sequence[str] = ()
) -> dict[str, list[str]]:
    """The labels each drop-down offers: every label the frameworks use, each once."""
    lists: dict[str, list[str]] = {
        "gender": list(codes.GENDERS.values()),
        "ethnicity": [ethnicity_label(code) for code in codes.ETHNICITIES],
        "consent": list(codes.CONSENT_STATUSES.values()),
        "referral": [],
        "exit": [],
    }
    for name, attribute in FRAMEWORK_LISTS.items():
        seen: set[str] = set()
        lists[name] = []
        for framework in frameworks:
            for entry in getattr(framework, attribute):
                if norm(entry.label) not in seen:
                    seen.add(norm(entry.label))
                    lists[name].append(entry.label)
    types = {t for f in frameworks for t in f.session_types}
    modes = {m for f in frameworks for m in f.modes}
    lists["session_type"] = [v for k, v in codes.SESSION_TYPES.items() if k in types]
    lists["mode"] = [v for k, v in codes.MODES.items() if k in modes]
    lists["session_status"] = list(codes.SESSION_STATUSES.values())
    lists["attendance"] = list(codes.ATTENDANCE_STATUSES.values())
    lists["timepoint"] = list(codes.TIMEPOINTS.values())
    measures = {use.measure_id for f in frameworks for use in f.measures}
    from vrp_desktop.services import frameworks as fw_service

    lists["measure"] = [fw_service.measure(m).name for m in sorted(measures)]
    if interventions:
        lists["intervention"] = sorted(interventions, key=str.casefold)
    return lists


def _frameworks(framework_id: str | None) -> list[Framework]:
    from vrp_desktop.services import frameworks as fw_service

    catalog = fw_service.builtin_catalog()
    if framework_id is None:
        return list(catalog.frameworks())
    found = [f for f in catalog.frameworks() if f.id == framework_id]
    if not found:
        known = ", ".join(sorted(f.id for f in catalog.frameworks()))
        raise VrpError(f"There is no framework {framework_id!r}. Choose one of: {known}.")
    return found


def build_template(
    framework_id: str | None = None,
    interventions: Sequence[str] = (),
    run_under: Sequence[tuple[str, Framework]] = (),
) -> Workbook:
    """The template; ``interventions`` (the workspace's names) fill the Intervention list, and
    ``run_under`` (each intervention's name and framework) decide which Sessions columns are
    marked required; without it, the template's frameworks do."""
    frameworks = _frameworks(framework_id)
    lists = code_lists(frameworks, interventions)
    wb = Workbook()
    register = wb.active
    register.title = SHEET
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F5F5B")
    optional_fill = PatternFill("solid", fgColor="5E8C88")
    for j, col in enumerate(COLUMNS, start=1):
        cell = register.cell(1, j, col.header + (" *" if col.required else ""))
        cell.font, cell.fill = bold, fill if col.required else optional_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        register.column_dimensions[get_column_letter(j)].width = col.width
        if col.kind == "date":
            for r in range(2, 202):
                register.cell(r, j).number_format = "dd/mm/yyyy"
    register.freeze_panes = "A2"

    sheet = wb.create_sheet(LISTS)
    sheet.sheet_state = "hidden"
    names = list(lists)
    for j, name in enumerate(names, start=1):
        sheet.cell(1, j, name)
        for i, label in enumerate(lists[name], start=2):
            sheet.cell(i, j, label)
    meta_col = len(names) + 2
    sheet.cell(1, meta_col, "framework")
    sheet.cell(2, meta_col, framework_id or "")
    sheet.cell(1, meta_col + 1, "template_version")
    sheet.cell(2, meta_col + 1, 1)

    for j, col in enumerate(COLUMNS, start=1):
        list_name = col.codes or ("intervention" if col.key == "intervention" else None)
        if list_name not in lists:
            continue
        k = names.index(list_name) + 1
        letter = get_column_letter(k)
        formula = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(lists[list_name]) + 1}"
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=not col.required,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=col.header,
            error=f"Choose {col.header.lower()} from the list.",
        )
        target = get_column_letter(j)
        validation.add(f"{target}2:{target}{ROWS_WITH_LISTS + 1}")
        register.add_data_validation(validation)

    if not run_under or framework_id:
        run_under = [(f.name, f) for f in frameworks]
    marks = session_marks(run_under)
    for title, columns in SHEETS.items():
        if columns is not None:
            sheet = wb.create_sheet(title, len(wb.sheetnames) - 1)
            _table_sheet(sheet, columns, lists, names, marks if title == "Sessions" else {})

    guide = wb.create_sheet("Instructions", 0)
    _instructions(guide, frameworks, framework_id, marks)
    wb.active = 1
    wb.properties.title = "VRP Desktop import template"
    wb.properties.creator = f"VRP Desktop {__version__}"
    return wb


def _table_sheet(sheet, columns, lists, names, marks) -> None:
    """A sheet of the template: styled header, date formats, drop-downs from the Lists sheet;
    ``marks`` gives the columns some frameworks require (``session_marks``)."""
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F5F5B")
    optional_fill = PatternFill("solid", fgColor="5E8C88")
    for j, col in enumerate(columns, start=1):
        mark = " *" if col.required else marks.get(col.key, ("", []))[0]
        cell = sheet.cell(1, j, col.header + mark)
        cell.font, cell.fill = bold, fill if mark else optional_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(j)].width = col.width
        if col.kind == "date":
            for r in range(2, 202):
                sheet.cell(r, j).number_format = "dd/mm/yyyy"
        list_name = col.codes or ("intervention" if col.key == "intervention" else None)
        if list_name not in lists or not lists[list_name]:
            continue
        letter = get_column_letter(names.index(list_name) + 1)
        formula = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(lists[list_name]) + 1}"
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=not col.required,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=col.header,
            error=f"Choose {col.header.lower()} from the list.",
        )
        target = get_column_letter(j)
        validation.add(f"{target}2:{target}{ROWS_WITH_LISTS + 1}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _instructions(
    sheet,
    frameworks: list[Framework],
    framework_id: str | None,
    marks: dict[str, tuple[str, list[str]]],
) -> None:
    columns = {c.key: c.header for c in SESSION_COLUMNS}
    some = [
        f"{columns[key]}, for {and_list(needing)}"
        for key, (mark, needing) in marks.items()
        if mark == SOME_REQUIRE
    ]
    lines = [
        ("VRP Desktop: importing a register", None),
        ("", None),
        (
            "1. Fill in the Register sheet: one row per young person and intervention. Columns "
            "marked * are required for someone new.",
            None,
        ),
        (
            "2. Pick the intervention, gender, ethnicity, consent, referral source and exit "
            "reason from the drop-down lists (the words of any framework's list, in any "
            "capitals, also work; a choice the intervention's framework does not allow is "
            "reported).",
            None,
        ),
        (
            "   Someone already in VRP Desktop (found by Reference, or by name and date of "
            "birth) is updated: blank cells keep what is there, filled cells replace it. The "
            "check lists every change before anything is imported.",
            None,
        ),
        (
            "3. Dates: real dates or text as dd/mm/yyyy (e.g. 04/03/2011). You may also "
            "import the same columns from a .csv, .ods or .xls file.",
            None,
        ),
        (
            "4. Check first: vrp import xlsx WORKSPACE FILE.xlsx --dry-run. Every row with a "
            "problem is listed with its reason, and a copy of the sheet with an Errors column is "
            "saved beside your file. Nothing is imported on a dry run.",
            None,
        ),
        (
            "5. Then import: the same command without --dry-run imports the good rows in one "
            "step; rows with problems are not imported, fix them and import them again.",
            None,
        ),
        (
            "6. Sessions, registers and questionnaires (optional, same workbook): one row per "
            "session on Sessions, with your own label in its Session column (S1, S2...); one "
            "row per person on a session's register on Attendance, with that label; one row "
            "per completed questionnaire on Questionnaires, answers in Q1, Q2... (the "
            "answer's number or words). People are found by Reference, or by name and date of "
            "birth (already in VRP Desktop, or on the Register sheet of this workbook). A "
            "session already in VRP Desktop (same intervention, date and time) is not added "
            "again.",
            None,
        ),
        *(
            [
                (
                    "   On Sessions, a column marked (*) is required for sessions of some "
                    "interventions only. " + "; ".join(some) + ".",
                    None,
                )
            ]
            if some
            else []
        ),
        ("", None),
        (
            "Framework: "
            + (
                ", ".join(f.name for f in frameworks)
                if framework_id
                else "any (lists merge all built-in frameworks)"
            ),
            None,
        ),
        ("", None),
        ("Column", "What to enter"),
    ]
    for col in COLUMNS:
        if not col.required and (col.help or "").startswith("needed "):
            # required only with another answer: "Optional" would read as never needed
            what = "Required " + col.help.removeprefix("needed ") + "."
        else:
            what = ("Required. " if col.required else "Optional. ") + (
                col.help or ("Choose from the list." if col.kind == "code" else "")
            )
        lines.append((col.header, what.strip()))
    for i, (a, b) in enumerate(lines, start=1):
        sheet.cell(i, 1, a)
        if b is not None:
            sheet.cell(i, 2, b)
    sheet["A1"].font = Font(bold=True, size=14, color="1F5F5B")
    header_row = next(i for i, (a, _) in enumerate(lines, start=1) if a == "Column")
    sheet.cell(header_row, 1).font = Font(bold=True)
    sheet.cell(header_row, 2).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90


def write_template(
    path: Path,
    framework_id: str | None = None,
    interventions: Sequence[str] = (),
    run_under: Sequence[tuple[str, Framework]] = (),
) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    wb = build_template(framework_id, interventions, run_under)
    with atomic_open(path, 0o644) as handle:
        wb.save(handle)
    return path


def write_workspace_template(ws, path: Path, framework_id: str | None = None) -> Path:
    """The template with this workspace's interventions in the Intervention drop-down, and
    the Sessions columns their frameworks require marked as required."""
    from vrp_desktop.services import frameworks as fw_service
    from vrp_desktop.services.interventions import list_interventions

    interventions = list_interventions(ws)
    with ws.read() as session:
        installed = {f.id: f for f in fw_service.latest(session)}
    run_under = [
        (i["name"], installed[i["framework_id"]])
        for i in interventions
        if i["framework_id"] in installed
    ]
    return write_template(path, framework_id, [i["name"] for i in interventions], run_under)
