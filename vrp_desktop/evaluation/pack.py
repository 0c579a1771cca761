"""The oversight group's workbook: one sheet per table, numbers as numbers, hidden cells as
their marks, a Sources sheet (every published value with its source) and a Notes sheet.

``export_pack`` is the one action the command and the window run: build, write the workbook
(and the PDF, through a writer the caller passes in, since drawing charts needs Qt), then one
audit event. Files are written beside the target and renamed, so nothing is half-written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from vrp_desktop import __version__, clock
from vrp_desktop.atomic import atomic_open
from vrp_desktop.errors import VrpError
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.build import build
from vrp_desktop.evaluation.period import Period
from vrp_desktop.evaluation.tables import Pack, Table
from vrp_desktop.outputs import check_output_file
from vrp_desktop.returns import xlsxstream
from vrp_desktop.returns.xlsxstyles import TITLE, Style

HEADER_ROW = 4
_TEAL = "1F5F5B"
_SUBTITLE = Style(italic=True, color="555555")
_HEADER = Style(bold=True, color="FFFFFF", fill=_TEAL, vertical="center", wrap=True)
_MARK = Style(color="8A4B00", horizontal="right")
_TOP = Style(vertical="top", wrap=True, horizontal="left")
_LABEL = Style(bold=True)
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
Book = xlsxstream.Workbook


def _title_rows(book: Book, sheet: xlsxstream.SheetWriter, title: str, subtitle: str) -> None:
    sheet.append([title], [book.style(TITLE)])
    sheet.append([subtitle], [book.style(_SUBTITLE)])
    sheet.append([])


def _write_table(book: Book, name: str, table: Table, subtitle: str) -> None:
    """One table: title, header, then its rows, numbers in their column's format and hidden
    cells as their marks, right-aligned in their own colour."""
    widths = [min(max(len(h), 8), 28) for h in table.header]
    for row in table.rows:
        for j, value in enumerate(row):
            if isinstance(value, str):
                widths[j] = max(widths[j], min(len(value), 48))
    sheet = book.sheet(name, [w + 2 for w in widths], freeze=(HEADER_ROW, 2), landscape=True)
    _title_rows(book, sheet, table.title, f"{subtitle}. {table.explanation}")
    sheet.styled_row(table.header, book.style(_HEADER))
    numbers = [book.style(Style(number_format=f)) if f else 0 for f in table.formats]
    mark, hidden = book.style(_MARK), protect.is_hidden
    for row in table.rows:
        styles = zip(row, numbers, strict=True)
        sheet.append(row, [mark if v.__class__ is str and hidden(v) else s for v, s in styles])
    sheet.auto_filter(HEADER_ROW, len(table.header), HEADER_ROW + max(len(table.rows), 1))
    sheet.close()


def _write_pairs(book: Book, name: str, title: str, subtitle: str, header, rows, widths) -> None:
    """Rows of text wrapped in their columns, each row as tall as its longest cell's lines."""
    sheet = book.sheet(name, widths, freeze_header=False, landscape=True)
    _title_rows(book, sheet, title, subtitle)
    sheet.styled_row(header, book.style(_HEADER))
    top = [book.style(_TOP)] * len(header)
    for row in rows:
        sheet.append(row, top, height=_LINE_HEIGHT * max(map(_lines, row, widths)))
    sheet.close()


#: points per line of 11-point text
_LINE_HEIGHT = 15


def _lines(value, width: float) -> int:
    """Lines ``value`` wraps to in a column ``width`` characters wide (an estimate on the
    generous side: a cut-off definition is worse than a row with room to spare)."""
    per_line = max(int(width * 0.95) - 1, 1)
    return sum(-(-max(len(part), 1) // per_line) for part in str(value or "").split("\n"))


def _write_cover(book: Book, pack: Pack) -> None:
    # printed across one page, as every sheet of the pack is (it ran onto a second before)
    sheet = book.sheet("Cover", [28, 64], freeze_header=False, landscape=True)
    _title_rows(
        book, sheet, f"{pack.title}: report to the executive oversight group", pack.subtitle
    )
    facts = [
        ("Period", pack.period.label, ""),
        ("From", pack.period.start, "dd/mm/yyyy"),
        ("To", pack.period.end, "dd/mm/yyyy"),
        ("Level", "Partnership" if pack.kind == "partnership" else "Provider", ""),
        ("Units", len(pack.units), ""),
        ("Small-number threshold", pack.threshold, ""),
        ("Made", pack.created, "dd/mm/yyyy hh:mm"),
        ("Software", f"VRP Desktop {__version__}", ""),
    ]
    label = book.style(_LABEL)
    for name, value, fmt in facts:
        value_style = book.style(Style(number_format=fmt, horizontal="left"))
        sheet.append([name, value], [label, value_style])
    sheet.close()


def write(pack: Pack, handle) -> None:
    """The pack as a workbook streamed into ``handle``: a partnership pack is tens of thousands
    of cells, which openpyxl took 1.4 s to write at 100,000 people (``bench_evaluation``);
    ``xlsxstream`` formats each row as text itself."""
    book = xlsxstream.Workbook(
        handle,
        title=pack.title,
        subject=pack.subtitle,
        creator=f"VRP Desktop {__version__}",
        description=f"Small numbers suppressed (threshold {pack.threshold}).",
        created=pack.created.replace(tzinfo=clock.local_zone()),  # the wall clock it was made on
    )
    try:
        _write_cover(book, pack)
        for key, name in SHEETS:
            if key in pack.tables:  # not e.g. with no population figures installed
                _write_table(book, name, pack.tables[key], pack.subtitle)
        _write_pairs(
            book,
            "Sources",
            "Published values used",
            "Each scale's reliability, norm SD, thresholds and bands, and each intervention "
            "type's evidence strand, with the source named. A value not listed is not held, "
            "and the statistic that needs it is not shown.",
            ["Measure or intervention type", "Score", "What", "Value", "Source"],
            pack.sources,
            [40, 26, 20, 14, 110],
        )
        _write_pairs(
            book,
            "Notes",
            "Notes and definitions",
            pack.subtitle,
            ["Term", "Definition"],
            pack.notes,
            [26, 110],
        )
        book.close()
    except BaseException:
        book.abort()
        raise


def save(pack: Pack, path: Path) -> Path:
    """Write atomically: straight into a private file beside the target, then renamed."""
    path = Path(path)
    with atomic_open(path, 0o600) as handle:
        write(pack, handle)
    return path


def _checked_output(path: Path, suffix: str) -> Path:
    path = Path(path)
    if not path.name or path.name in (".", ".."):
        raise VrpError(f"Name a file to save the pack as, e.g. pack{suffix}.")
    if path.suffix.lower() != suffix:
        path = path.with_suffix(suffix)
    return check_output_file(path, "pack")


@contextlib.contextmanager
def _saving(path: Path) -> Iterator[None]:
    """A failure to write ``path`` said in words that name it (not its temporary file)."""
    try:
        yield
    except OSError as exc:
        raise VrpError(
            f"The pack could not be saved as {path}: {exc.strerror or type(exc).__name__}. "
            "Choose a folder you can write to and save again. Nothing was changed."
        ) from exc


def _save_files(pack: Pack, xlsx: Path | None, pdf: Path | None, pdf_writer, progress):
    """The workbook and the PDF put in place together: the PDF is drawn while the workbook's
    temporary file is still open, so when the PDF fails the old workbook stays as it was."""
    report = progress or (lambda *_: None)
    if xlsx is None:
        report("Drawing the PDF", 4, 5)
        with _saving(pdf):
            return [pdf_writer(pack, pdf)]
    with _saving(xlsx), atomic_open(xlsx, 0o600) as handle:
        report("Writing the workbook", 4, 5)
        write(pack, handle)
        if pdf is None:
            return [xlsx]
        report("Drawing the PDF", 4, 5)
        with _saving(pdf):
            drawn = pdf_writer(pack, pdf)
    return [xlsx, drawn]


def export_pack(
    ws,
    period: Period,
    xlsx: Path | None,
    *,
    pdf: Path | None = None,
    pdf_writer: PdfWriter | None = None,
    threshold: int | None = None,
    progress=None,
) -> tuple[Pack, list[Path]]:
    """Build the pack, write the workbook (and the PDF when a path and writer are given), then
    record one audit event. Paths and the threshold are checked before any work starts: the
    pack goes to the oversight group, so the partnership's small-number rule is its floor
    (default: that rule)."""
    from vrp_desktop.disclosure.rule import MAX_THRESHOLD
    from vrp_desktop.frameworks.disclosure import partnership_rule
    from vrp_desktop.services import audit

    if xlsx is None and pdf is None:
        raise VrpError("Name a workbook (.xlsx) or a PDF to save the pack as.")
    floor = partnership_rule().threshold
    if threshold is None:
        threshold = floor
    elif isinstance(threshold, bool) or not isinstance(threshold, int) or threshold > MAX_THRESHOLD:
        raise VrpError(
            f"The threshold must be a whole number from {floor} (the partnership's rule) to "
            f"{MAX_THRESHOLD}."
        )
    elif threshold < floor:
        raise VrpError(
            f"The partnership's small-number rule hides counts of fewer than {floor} people, "
            f"and the oversight pack keeps to it: a threshold of {threshold} would show them. "
            f"Use a threshold of {floor} or more (or leave it out)."
        )
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
    written = _save_files(pack, xlsx, pdf, pdf_writer, progress)
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
