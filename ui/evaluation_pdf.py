"""The evaluation pack as a PDF for the executive oversight group, drawn with Qt (QPdfWriter,
QPainter and the same QtCharts charts the Evaluation page shows).

Qt because the app already ships it (QtCharts included): a pure-Python route would add a PDF
and a charting library (reportlab and matplotlib, together far more than the bundle's budget
allows) to draw what the page draws already. The core stays Qt-free: ``vrp evaluation export
--pdf`` imports this module only when a PDF is asked for, and the window passes ``write_pdf``
to the same core action. Must run on the thread that owns the QApplication.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsScene

from ui import evaluation_charts as charts
from vrp_desktop import __version__
from vrp_desktop.atomic import atomic_open
from vrp_desktop.evaluation import protect
from vrp_desktop.evaluation.tables import STAGES, Pack

DPI = 96
PAGE_W, PAGE_H = 1123, 794  # A4 landscape at 96 dpi, in the painter's units
MARGIN = 40


def _app() -> QApplication:
    app = QApplication.instance()
    if app is None:  # the command line: no window, so the offscreen platform
        app = QApplication([sys.argv[0] if sys.argv else "vrp", "-platform", "offscreen"])
    return app  # type: ignore[return-value]


class _Doc:
    def __init__(self, writer: QPdfWriter, pack: Pack) -> None:
        self.writer, self.pack = writer, pack
        self.painter = QPainter(writer)
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.page = 1
        self.first = True

    def new_page(self, heading: str, sub: str = "") -> float:
        if not self.first:
            self.writer.newPage()
            self.page += 1
        self.first = False
        p = self.painter
        p.setPen(QColor("#1F5F5B"))
        p.setFont(QFont("Sans Serif", 16, QFont.Weight.Bold))
        p.drawText(QRectF(MARGIN, MARGIN - 8, PAGE_W - 2 * MARGIN, 30), heading)
        p.setPen(QColor("#555555"))
        p.setFont(QFont("Sans Serif", 9))
        p.drawText(QRectF(MARGIN, MARGIN + 22, PAGE_W - 2 * MARGIN, 18), sub or self.pack.subtitle)
        foot = (
            f"VRP Desktop {__version__} · {self.pack.subtitle} · counts of 1 to "
            f"{self.pack.threshold - 1} shown as {protect.primary_mark(self.pack.threshold)}, "
            f"other hidden values as {protect.HIDDEN} · page {self.page}"
        )
        p.drawText(QRectF(MARGIN, PAGE_H - MARGIN + 6, PAGE_W - 2 * MARGIN, 16), foot)
        p.setPen(QPen(QColor("#1F5F5B"), 1))
        p.drawLine(MARGIN, MARGIN + 42, PAGE_W - MARGIN, MARGIN + 42)
        return MARGIN + 52

    def chart(self, chart, rect: QRectF, explanation: str) -> None:
        scene = QGraphicsScene()
        scene.addItem(chart)
        height = rect.height() - 30
        chart.resize(rect.width(), height)
        scene.setSceneRect(0, 0, rect.width(), height)
        scene.render(self.painter, QRectF(rect.x(), rect.y(), rect.width(), height))
        self.painter.setPen(QColor("#333333"))
        self.painter.setFont(QFont("Sans Serif", 8))
        self.painter.drawText(
            QRectF(rect.x() + 6, rect.y() + height + 2, rect.width() - 12, 28),
            Qt.TextFlag.TextWordWrap,
            explanation,
        )
        scene.removeItem(chart)
        chart.deleteLater()

    def table(self, top: float, header: list[str], rows: list[list[str]], widths) -> float:
        p = self.painter
        x0, line = MARGIN, 18
        p.setFont(QFont("Sans Serif", 8, QFont.Weight.Bold))
        p.setPen(QColor("#1F5F5B"))
        x = x0
        for text, w in zip(header, widths, strict=True):
            p.drawText(QRectF(x, top, w - 4, line * 2), Qt.TextFlag.TextWordWrap, text)
            x += w
        top += line * 2
        p.setFont(QFont("Sans Serif", 8))
        p.setPen(QColor("#222222"))
        for row in rows:
            if top > PAGE_H - MARGIN - line:
                top = self.new_page("Summary (continued)")
            x = x0
            for j, (text, w) in enumerate(zip(row, widths, strict=True)):
                align = Qt.AlignmentFlag.AlignLeft if j == 0 else Qt.AlignmentFlag.AlignRight
                p.drawText(QRectF(x, top, w - 8, line), align | Qt.AlignmentFlag.AlignVCenter, text)
                x += w
            top += line
        return top

    def finish(self) -> None:
        self.painter.end()


def _cell(value) -> str:
    if value is None:
        return ""
    if protect.is_hidden(value):
        return str(value)
    if isinstance(value, float) and 0 <= value <= 1:
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(pack: Pack, device: QIODevice) -> int:
    """Draw the whole pack onto ``device``; returns the number of pages."""
    _app()
    writer = QPdfWriter(device)
    writer.setResolution(DPI)  # painter units are 96 dpi pixels; text and lines stay vector
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(0, 0, 0, 0),
        )
    )
    writer.setTitle(f"{pack.title}: {pack.subtitle}")
    writer.setCreator(f"VRP Desktop {__version__}")
    doc = _Doc(writer, pack)
    top = doc.new_page("Impact and evaluation: report to the executive oversight group")
    funnel = pack.tables["funnel"]
    header = ["Unit", *STAGES, "Share paired"]
    rows = [
        [f"{row[1]}" if row[0] == "All" else f"{row[0]}: {row[1]}"]
        + [_cell(v) for v in row[3 : 3 + len(STAGES)]]
        + [_cell(row[3 + len(STAGES)])]
        for row in funnel.rows
    ]
    widths = [430] + [75] * len(STAGES) + [90]
    top = doc.table(top + 6, header, rows, widths)
    notes = (
        "What this pack shows, for everyone referred in the period: how many started, attended "
        "and gave a baseline and an exit questionnaire; the change on each measure with its 95% "
        "interval; the share who reliably improved; change by contact hours; and attendance by "
        "group. Definitions and the sources of every published value are in the workbook's "
        "Notes and Sources sheets."
    )
    doc.painter.setFont(QFont("Sans Serif", 9))
    doc.painter.drawText(
        QRectF(MARGIN, top + 10, PAGE_W - 2 * MARGIN, 60), Qt.TextFlag.TextWordWrap, notes
    )
    half_w = (PAGE_W - 2 * MARGIN - 20) / 2
    for unit in pack.units:
        measures = charts.measures_of(pack, unit) or [None]
        top = doc.new_page(f"{unit[1]}", f"{unit[0]} · {pack.subtitle}")
        half_h = (PAGE_H - MARGIN - top - 24) / 2
        grid = [
            (charts.funnel_chart(pack, unit), charts.EXPLAIN["funnel"]),
            (charts.reliable_chart(pack, unit), charts.EXPLAIN["reliable"]),
            (charts.change_chart(pack, unit, measures[0]), charts.EXPLAIN["change"]),
            (charts.dose_chart(pack, unit, measures[0]), charts.EXPLAIN["dose"]),
        ]
        for k, (chart, text) in enumerate(grid):
            rect = QRectF(
                MARGIN + (k % 2) * (half_w + 20), top + (k // 2) * (half_h + 8), half_w, half_h
            )
            doc.chart(chart, rect, text)
        for start in range(1, len(measures), 2):
            top = doc.new_page(f"{unit[1]}: more measures", f"{unit[0]} · {pack.subtitle}")
            for k, measure in enumerate(measures[start : start + 2]):
                y = top + k * (half_h + 8)
                doc.chart(
                    charts.change_chart(pack, unit, measure),
                    QRectF(MARGIN, y, half_w, half_h),
                    charts.EXPLAIN["change"],
                )
                doc.chart(
                    charts.dose_chart(pack, unit, measure),
                    QRectF(MARGIN + half_w + 20, y, half_w, half_h),
                    charts.EXPLAIN["dose"],
                )
        if unit[0] in ("All", "Intervention type", "Provider"):
            top = doc.new_page(f"{unit[1]}: who is reached", f"{unit[0]} · {pack.subtitle}")
            full_h = PAGE_H - MARGIN - top - 24
            with_population = "reach_population" in pack.tables
            height = (full_h - 8) / 2 if with_population else full_h
            for k, dimension in enumerate(("Ethnic group", "Gender")):
                doc.chart(
                    charts.gaps_chart(pack, unit, dimension),
                    QRectF(MARGIN + k * (half_w + 20), top, half_w, height),
                    charts.EXPLAIN["gaps"],
                )
                if with_population:  # below each: the same groups against the population
                    doc.chart(
                        charts.population_chart(pack, unit, dimension),
                        QRectF(MARGIN + k * (half_w + 20), top + height + 8, half_w, height),
                        charts.EXPLAIN["population"],
                    )
    doc.finish()
    return doc.page


def write_pdf(pack: Pack, path: Path) -> Path:
    """Write the PDF atomically (drawn in memory, then written beside the target and renamed)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    with charts.on_paper():  # the page may have drawn dark charts for the window
        render(pack, buffer)
    buffer.close()
    path = Path(path)
    with atomic_open(path, 0o600) as handle:
        handle.write(bytes(data.data()))
    return path
