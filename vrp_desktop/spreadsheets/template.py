"""The import template: a register sheet with drop-down lists from the code lists, and a sheet
of instructions. The importer reads the same column definitions, so they cannot drift apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from vrp_desktop import __version__, codes
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import VrpError
from vrp_desktop.frameworks.models import Framework

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
    Column("referral_date", "Referral date", kind="date", width=14),
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
)


def ethnicity_label(code: str) -> str:
    """What the drop-down shows: the ONS group and the category, e.g. "White: Irish"."""
    group = codes.ethnic_group(code)
    if group == "not_stated":
        return "Not stated"
    short = {
        "asian": "Asian",
        "black": "Black",
        "mixed": "Mixed",
        "white": "White",
        "other": "Other",
    }[group]
    return f"{short}: {codes.ETHNICITIES[code]}"


def code_lists(frameworks: list[Framework]) -> dict[str, dict[str, str]]:
    """code -> label for each list the template offers; frameworks' lists are merged."""
    referral: dict[str, str] = {}
    exits: dict[str, str] = {}
    for framework in frameworks:
        for entry in framework.referral_sources:
            referral.setdefault(entry.code, entry.label)
        for entry in framework.exit_reasons:
            exits.setdefault(entry.code, entry.label)
    return {
        "gender": dict(codes.GENDERS),
        "ethnicity": {code: ethnicity_label(code) for code in codes.ETHNICITIES},
        "consent": dict(codes.CONSENT_STATUSES),
        "referral": referral,
        "exit": exits,
    }


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


def build_template(framework_id: str | None = None) -> Workbook:
    frameworks = _frameworks(framework_id)
    lists = code_lists(frameworks)
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
        for i, label in enumerate(lists[name].values(), start=2):
            sheet.cell(i, j, label)
    meta_col = len(names) + 2
    sheet.cell(1, meta_col, "framework")
    sheet.cell(2, meta_col, framework_id or "")
    sheet.cell(1, meta_col + 1, "template_version")
    sheet.cell(2, meta_col + 1, 1)

    for j, col in enumerate(COLUMNS, start=1):
        if col.kind != "code":
            continue
        k = names.index(col.codes) + 1
        letter = get_column_letter(k)
        formula = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(lists[col.codes]) + 1}"
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

    guide = wb.create_sheet("Instructions", 0)
    _instructions(guide, frameworks, framework_id)
    wb.active = 1
    wb.properties.title = "VRP Desktop import template"
    wb.properties.creator = f"VRP Desktop {__version__}"
    return wb


def _instructions(sheet, frameworks: list[Framework], framework_id: str | None) -> None:
    lines = [
        ("VRP Desktop: importing a register", None),
        ("", None),
        (
            "1. Fill in the Register sheet: one row per young person and intervention. Columns "
            "marked * are required.",
            None,
        ),
        (
            "2. Pick gender, ethnicity, consent, referral source and exit reason from the "
            "drop-down lists (typing the same words in any capitals also works).",
            None,
        ),
        ("3. Dates: real dates or text as dd/mm/yyyy (e.g. 04/03/2011).", None),
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


def write_template(path: Path, framework_id: str | None = None) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    wb = build_template(framework_id)
    with atomic_open(path, 0o644) as handle:
        wb.save(handle)
    return path
