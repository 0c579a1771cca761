"""Writing a return to .xlsx with openpyxl: numbers as numbers, dates as dates, frozen
headers, sized columns, one set of named styles, and the workbook's properties filled in.

The file is written to a temporary file beside the target and renamed over it, so a failed
or cancelled export never leaves half a workbook.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open
from vrp_desktop.returns.report import ReturnData, Row, SheetData

HEADER_ROW = 4
_TEAL = "1F5F5B"
_THIN = Side(style="thin", color="A0A0A0")


def _styles() -> dict[str, NamedStyle]:
    title = NamedStyle("vrp_title", font=Font(bold=True, size=14, color=_TEAL))
    subtitle = NamedStyle("vrp_subtitle", font=Font(italic=True, color="555555"))
    header = NamedStyle(
        "vrp_header",
        font=Font(bold=True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor=_TEAL),
        alignment=Alignment(wrap_text=True, vertical="center"),
        border=Border(bottom=_THIN),
    )
    label = NamedStyle("vrp_label", alignment=Alignment(vertical="top", wrap_text=False))
    number = NamedStyle("vrp_number", number_format="#,##0")
    total = NamedStyle(
        "vrp_total",
        font=Font(bold=True),
        border=Border(top=_THIN),
        fill=PatternFill("solid", fgColor="EEF4F3"),
    )
    suppressed = NamedStyle(
        "vrp_suppressed", font=Font(color="8A4B00"), alignment=Alignment(horizontal="right")
    )
    date = NamedStyle(
        "vrp_date", number_format="dd/mm/yyyy", alignment=Alignment(horizontal="left")
    )
    stamp = NamedStyle(
        "vrp_datetime", number_format="dd/mm/yyyy hh:mm", alignment=Alignment(horizontal="left")
    )
    text = NamedStyle("vrp_text", alignment=Alignment(wrap_text=True, vertical="top"))
    section = NamedStyle("vrp_section", font=Font(bold=True, color=_TEAL))
    return {
        s.name: s
        for s in (
            title,
            subtitle,
            header,
            label,
            number,
            total,
            suppressed,
            date,
            stamp,
            text,
            section,
        )
    }


def _write_sheet(sheet: Worksheet, data: SheetData, subtitle: str) -> None:
    sheet["A1"] = data.title
    sheet["A1"].style = "vrp_title"
    sheet["A2"] = subtitle
    sheet["A2"].style = "vrp_subtitle"
    widths: dict[int, int] = {1: min(len(data.title), 40)}
    first = HEADER_ROW
    if data.header:
        for j, name in enumerate(data.header, start=1):
            cell = sheet.cell(HEADER_ROW, j, name)
            cell.style = "vrp_header"
            widths[j] = max(widths.get(j, 0), min(len(name), 28))
        first = HEADER_ROW + 1
        sheet.freeze_panes = sheet.cell(first, max(data.label_columns, 0) + 1)
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    for offset, row in enumerate(data.rows):
        _write_row(sheet, first + offset, row, data, widths)
    for j, width in widths.items():
        cap = 90 if data.name == "Notes" and j == 2 else 48
        sheet.column_dimensions[get_column_letter(j)].width = max(8, min(width + 2, cap))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.sheet_properties.tabColor = _TEAL if data.name != "Notes" else "888888"


def _write_row(sheet: Worksheet, r: int, row: Row, data: SheetData, widths: dict) -> None:
    for j, value in enumerate(row.values, start=1):
        cell = sheet.cell(r, j, value)
        if isinstance(value, dt.datetime):
            cell.style = "vrp_datetime"
            size = 16
        elif isinstance(value, dt.date):
            cell.style = "vrp_date"
            size = 10
        elif isinstance(value, bool):
            size = 5
        elif isinstance(value, (int, float)):
            cell.style = "vrp_number"
            cell.number_format = row.format_of(j - 1)
            size = len(f"{value:,.2f}") if isinstance(value, float) else len(f"{value:,}")
        elif (
            isinstance(value, str)
            and j > data.label_columns
            and row.kind in ("data", "total")
            and data.header is not None
        ):
            cell.style = "vrp_suppressed"
            size = len(value)
        else:
            cell.style = (
                "vrp_section"
                if row.kind == "section"
                else ("vrp_text" if data.name == "Notes" else "vrp_label")
            )
            size = len(str(value or ""))
        if row.kind == "total":
            cell.font = Font(bold=True, color=cell.font.color)
            cell.fill = PatternFill("solid", fgColor="EEF4F3")
            cell.border = Border(top=_THIN)
        widths[j] = max(widths.get(j, 0), min(size, 90))


def to_workbook(data: ReturnData) -> Workbook:
    wb = Workbook()
    for style in _styles().values():
        wb.add_named_style(style)
    subtitle = f"{data.subject} · {data.quarter.label} ({data.quarter.months})"
    wb.remove(wb.active)
    for sheet_data in data.sheets:
        sheet = wb.create_sheet(sheet_data.name)
        _write_sheet(sheet, sheet_data, subtitle)
    wb.active = 0
    props = wb.properties
    props.title = data.title
    props.subject = data.subject
    props.creator = f"VRP Desktop {__version__}"
    props.lastModifiedBy = f"VRP Desktop {__version__}"
    props.description = (
        f"{data.title} for {data.quarter.label}; small numbers suppressed "
        f"(threshold {data.threshold})."
    )
    props.keywords = f"VRP; quarterly return; {data.quarter.label}"
    props.category = "Partnership return" if data.kind == "partnership" else "Provider return"
    props.created = data.made_at
    props.modified = data.made_at
    return wb


def save(data: ReturnData, path: Path) -> Path:
    """Write the workbook atomically; returns the path written."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    wb = to_workbook(data)
    with atomic_open(path, 0o600) as handle:
        wb.save(handle)
    return path


def export_return(
    ws,
    quarter,
    path: Path,
    *,
    threshold: int | None = None,
    progress=None,
    sent_only: bool = False,
) -> tuple[ReturnData, Path]:
    """Build, write and audit the return (the one action the command and the window run).
    ``threshold`` None applies the partnership's rule from the framework pack; ``sent_only``
    counts only what a provider sent to the VRP."""
    from vrp_desktop.returns import report
    from vrp_desktop.returns.source import provider_source
    from vrp_desktop.services import audit

    source = (
        provider_source(quarter, sent_only=True) if sent_only and ws.kind != "coordinator" else None
    )
    data = report.build(ws, quarter, threshold=threshold, progress=progress, source=source)
    if progress:
        progress("Writing the workbook", 5, 6)
    written = save(data, path)
    with ws.unit() as session:
        audit.append(
            session,
            ws.user.username,
            "return.export",
            "workspace",
            None,
            after={"period": quarter.label, "threshold": data.threshold, "kind": data.kind},
        )
    return data, written
