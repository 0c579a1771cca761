"""The oversight group's workbook: one sheet per table, numbers as numbers, hidden cells as
their marks, a Sources sheet (every published value with its source) and a Notes sheet.

``export_pack`` is the one action the command and the window run: build, write the workbook
(and the PDF, through a writer the caller passes in, since drawing charts needs Qt), then one
audit event. Files are written beside the target and renamed, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import VrpError
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.build import build
from vrp_desktop.evaluation.period import Period
from vrp_desktop.evaluation.tables import Pack, Table
from vrp_desktop.returns.xlsxtemp import parts_beside

HEADER_ROW = 4
_TEAL = "1F5F5B"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor=_TEAL)
_MARK_FONT = Font(color="8A4B00")
_RIGHT = Alignment(horizontal="right")
_TOP = Alignment(wrap_text=True, vertical="top")
#: sheet name for each table, in workbook order
SHEETS = (
    ("funnel", "Attrition"),
    ("exits", "Exit reasons"),
    ("change", "Change"),
    ("reliable", "Reliable change"),
    ("bands", "Band movement"),
    ("dose", "Dose"),
    ("dose_trend", "Dose and change"),
    ("reach_gaps", "Reach by group"),
    ("outcome_gaps", "Outcomes by group"),
    ("reach_population", "Reach vs population"),
)

PdfWriter = Callable[[Pack, Path], Path]


def _cell(sheet, value, *, font=None, fill=None, fmt=None, align=None) -> WriteOnlyCell:
    """A styled cell. Setting a style hashes it into the workbook's style lists, which for tens
    of thousands of cells is most of the time the workbook takes; each combination is set once
    per workbook and its style record copied onto the later cells (openpyxl's own ``copy``)."""
    cell = WriteOnlyCell(sheet, value=value)
    if font is None and fill is None and not fmt and align is None:
        return cell
    cache = sheet.parent.__dict__.setdefault("_vrp_style_cache", {})
    key = (id(font), id(fill), fmt, id(align))
    held = cache.get(key)
    if held is None:
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if fmt:
            cell.number_format = fmt
        if align is not None:
            cell.alignment = align
        cache[key] = (copy(cell._style), font, fill, align)  # the objects kept: ids stay theirs
    else:
        cell._style = copy(held[0])
    return cell


def _title_rows(sheet, title: str, subtitle: str) -> None:
    sheet.append([_cell(sheet, title, font=Font(bold=True, size=14, color=_TEAL))])
    sheet.append([_cell(sheet, subtitle, font=Font(italic=True, color="555555"))])
    sheet.append([])


def _header(sheet, names: list[str]) -> None:
    wrap = Alignment(wrap_text=True, vertical="center")
    sheet.append([_cell(sheet, n, font=_HEADER_FONT, fill=_HEADER_FILL, align=wrap) for n in names])


def _widths(sheet, widths: list[int]) -> None:
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width


def _write_table(sheet, table: Table, subtitle: str) -> None:
    """One table, streamed (write-only): widths and panes are set before the rows go out."""
    widths = [min(max(len(h), 8), 28) for h in table.header]
    for row in table.rows:
        for j, value in enumerate(row):
            if isinstance(value, str):
                widths[j] = max(widths[j], min(len(value), 48))
    _widths(sheet, [w + 2 for w in widths])
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    sheet.auto_filter.ref = (
        f"A{HEADER_ROW}:{get_column_letter(len(table.header))}"
        f"{HEADER_ROW + max(len(table.rows), 1)}"
    )
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _title_rows(sheet, table.title, f"{subtitle}. {table.explanation}")
    _header(sheet, table.header)
    right = _RIGHT
    for row in table.rows:
        out = []
        for value, fmt in zip(row, table.formats, strict=True):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                # a number in the General format needs no style of its own
                out.append(_cell(sheet, value, fmt=fmt) if fmt else value)
            elif protect.is_hidden(value):
                out.append(_cell(sheet, value, font=_MARK_FONT, align=right))
            else:
                out.append(value)
        sheet.append(out)


def _write_pairs(sheet, title: str, subtitle: str, header: list[str], rows, widths) -> None:
    _widths(sheet, widths)
    _title_rows(sheet, title, subtitle)
    _header(sheet, header)
    top = _TOP
    for row in rows:
        sheet.append([_cell(sheet, value, align=top) for value in row])


def _write_cover(sheet, pack: Pack) -> None:
    _widths(sheet, [26, 60])
    _title_rows(sheet, f"{pack.title}: report to the executive oversight group", pack.subtitle)
    facts = [
        ("Period", pack.period.label, None),
        ("From", pack.period.start, "dd/mm/yyyy"),
        ("To", pack.period.end, "dd/mm/yyyy"),
        ("Level", "Partnership" if pack.kind == "partnership" else "Provider", None),
        ("Units", len(pack.units), None),
        ("Small-number threshold", pack.threshold, None),
        ("Made", pack.created, "dd/mm/yyyy hh:mm"),
        ("Software", f"VRP Desktop {__version__}", None),
    ]
    left = Alignment(horizontal="left")
    for name, value, fmt in facts:
        sheet.append(
            [_cell(sheet, name, font=Font(bold=True)), _cell(sheet, value, fmt=fmt, align=left)]
        )


def to_workbook(pack: Pack) -> Workbook:
    """The pack as a write-only workbook (streamed: a partnership pack has thousands of rows)."""
    wb = Workbook(write_only=True)
    _write_cover(wb.create_sheet("Cover"), pack)
    for key, name in SHEETS:
        if key not in pack.tables:  # e.g. no population figures installed
            continue
        _write_table(wb.create_sheet(name), pack.tables[key], pack.subtitle)
    _write_pairs(
        wb.create_sheet("Sources"),
        "Published values used",
        "Each scale's reliability, norm SD, thresholds and bands, and each intervention type's "
        "evidence strand, with the source named. A value not listed is not held, and the "
        "statistic that needs it is not shown.",
        ["Measure or intervention type", "Score", "What", "Value", "Source"],
        pack.sources,
        [40, 26, 20, 14, 110],
    )
    _write_pairs(
        wb.create_sheet("Notes"),
        "Notes and definitions",
        pack.subtitle,
        ["Term", "Definition"],
        pack.notes,
        [26, 110],
    )
    props = wb.properties
    props.title = pack.title
    props.subject = pack.subtitle
    props.creator = f"VRP Desktop {__version__}"
    props.description = f"Small numbers suppressed (threshold {pack.threshold})."
    props.created = pack.created
    props.modified = pack.created
    return wb


def save(pack: Pack, path: Path) -> Path:
    """Write atomically; openpyxl's part files stay in a private folder beside the target."""
    path = Path(path)
    with parts_beside(path):
        wb = to_workbook(pack)
        with atomic_open(path, 0o600) as handle:
            wb.save(handle)
    return path


def _checked_output(path: Path, suffix: str) -> Path:
    path = Path(path)
    if path.suffix.lower() != suffix:
        path = path.with_suffix(suffix)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise VrpError(
            f"The folder {folder} does not exist. Create it first, or save the pack in an "
            "existing folder."
        )
    if path.is_dir():
        raise VrpError(f"{path} is a folder: name a file to save the pack as.")
    return path


def export_pack(
    ws,
    period: Period,
    xlsx: Path | None,
    *,
    pdf: Path | None = None,
    pdf_writer: PdfWriter | None = None,
    threshold: int = protect.DEFAULT_THRESHOLD,
    progress=None,
) -> tuple[Pack, list[Path]]:
    """Build the pack, write the workbook (and the PDF when a path and writer are given), then
    record one audit event. Paths are checked before any work starts."""
    from vrp_desktop.services import audit

    if xlsx is None and pdf is None:
        raise VrpError("Name a workbook (.xlsx) or a PDF to save the pack as.")
    targets = []
    if xlsx is not None:
        xlsx = _checked_output(xlsx, ".xlsx")
        targets.append(xlsx)
    if pdf is not None:
        if pdf_writer is None:
            raise VrpError("This installation cannot draw PDF charts; save the workbook only.")
        pdf = _checked_output(pdf, ".pdf")
        targets.append(pdf)
    pack = build(ws, period, threshold=threshold, progress=progress)
    written: list[Path] = []
    if xlsx is not None:
        if progress:
            progress("Writing the workbook", 4, 5)
        written.append(save(pack, xlsx))
    if pdf is not None and pdf_writer is not None:
        if progress:
            progress("Drawing the PDF", 4, 5)
        written.append(pdf_writer(pack, pdf))
    with ws.unit() as session:
        audit.append(
            session,
            ws.user.username,
            "evaluation.export",
            "workspace",
            None,
            after={
                "period": period.label,
                "threshold": pack.threshold,
                "kind": pack.kind,
                "files": [p.suffix.lstrip(".") for p in written],
            },
        )
    return pack, written
