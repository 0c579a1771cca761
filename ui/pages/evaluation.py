"""Evaluation: does each intervention work, for whom, and at what dose.

Pick a period and a unit (everyone, an intervention type, a provider, an intervention); the
page reads the published (already protected) figures through ``ctx.read`` and draws five charts,
each with one line saying what it shows. Save writes the oversight pack (workbook and PDF)
through the same core action as ``vrp evaluation export``; the PDF's charts are drawn on the GUI
thread, which the store thread asks for and waits on (never the other way round).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCharts import QChart, QChartView
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import evaluation_charts as charts
from ui.context import AppContext
from ui.errors import message_for
from vrp_desktop import roles
from vrp_desktop.evaluation.period import Period, recent_years
from vrp_desktop.evaluation.tables import Pack


def build_pack(ws, period: Period) -> Pack:
    """Runs on the store thread, which is also where scipy is first loaded (a second or two),
    so the window never waits for the numeric library."""
    from vrp_desktop.evaluation.build import build

    return build(ws, period)


def save_pack(ws, period: Period, path: Path, **kwargs):
    from vrp_desktop.evaluation.pack import export_pack

    return export_pack(ws, period, path, **kwargs)


class GuiCall(QObject):
    """Runs a function on the GUI thread for a caller on another thread, which waits for it
    (drawing charts needs the GUI thread; the store thread is the one that waits)."""

    _run = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run.connect(self._execute, Qt.ConnectionType.BlockingQueuedConnection)

    @Slot(object)
    def _execute(self, box: list) -> None:
        fn, args = box[0], box[1]
        try:
            box.append(("ok", fn(*args)))
        except BaseException as exc:  # handed back to the waiting thread
            box.append(("error", exc))

    def wrap(self, fn):
        def call(*args):
            box: list[Any] = [fn, args]
            self._run.emit(box)
            kind, value = box[2]
            if kind == "error":
                raise value
            return value

        return call


class ChartCard(QFrame):
    """A chart with the one line that explains it."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"card_{name}")
        self.builder = None
        self.view = QChartView(QChart(), self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(280)  # seven labelled rows stay legible
        self.explanation = QLabel(charts.EXPLAIN[name], self)
        self.explanation.setWordWrap(True)
        self.explanation.setProperty("role", "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.explanation)

    def show_chart(self, builder) -> None:
        """Show the chart ``builder()`` makes."""
        self.builder = builder
        chart = builder()
        palette = self.palette()
        chart.setBackgroundBrush(palette.brush(QPalette.ColorRole.Base))
        chart.setTitleBrush(palette.brush(QPalette.ColorRole.WindowText))
        chart.resize(self.view.size().toSizeF())
        old = self.view.chart()
        self.view.setChart(chart)
        self.view.setAccessibleName(chart.title())
        old.deleteLater()


class EvaluationPage(QWidget):
    """Charts of the period's evaluation, and the oversight pack."""

    CARDS = ("funnel", "change", "reliable", "dose", "gaps", "population")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.pack: Pack | None = None
        self._stale = True
        self._loading = False
        self.gui_call = GuiCall(self)

        title = QLabel("Evaluation", self)
        title.setProperty("role", "page-title")
        controls = QHBoxLayout()
        self.period = QComboBox(self)
        self.period.setAccessibleName("Period")
        for period in recent_years():
            self.period.addItem(f"{period.label}  ({period.months})", period)
        self.period.setCurrentIndex(1)  # the last complete financial year
        self.unit = QComboBox(self)
        self.unit.setAccessibleName("Intervention")
        self.unit.setMinimumContentsLength(28)
        self.unit.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.measure = QComboBox(self)
        self.measure.setAccessibleName("Measure")
        self.measure.setMinimumContentsLength(16)
        self.measure.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.dimension = QComboBox(self)
        self.dimension.setAccessibleName("Group by")
        self.dimension.setMinimumContentsLength(12)
        self.dimension.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.save_button = QPushButton("Save pack…", self)
        self.save_button.setEnabled(False)
        self.with_pdf = QCheckBox("with PDF", self)
        self.with_pdf.setChecked(True)
        second = QHBoxLayout()
        for row, pairs in (
            (controls, (("Period", self.period), ("Intervention", self.unit))),
            (second, (("Measure", self.measure), ("Groups", self.dimension))),
        ):
            for text, widget in pairs:
                label = QLabel(text, self)
                label.setBuddy(widget)
                row.addWidget(label)
                row.addWidget(widget)
            row.addStretch(1)
        second.addWidget(self.with_pdf)
        second.addWidget(self.save_button)

        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        grid_host = QWidget(self)
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(10)
        self.cards = {name: ChartCard(name, grid_host) for name in self.CARDS}
        for k, name in enumerate(self.CARDS):
            grid.addWidget(self.cards[name], k // 2, k % 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addLayout(controls)
        layout.addLayout(second)
        layout.addWidget(self.status)
        # nobody referred in the period (a new workspace): say so instead of empty axes
        self.empty = QLabel(self)
        self.empty.setObjectName("evaluation_empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.charts_stack = QStackedWidget(self)
        self.charts_stack.addWidget(scroll)
        self.charts_stack.addWidget(self.empty)
        layout.addWidget(self.charts_stack, 1)

        self.allowed = roles.can(ctx.ws.user.role, "export_return")
        self.period.currentIndexChanged.connect(self.refresh)
        self.unit.currentIndexChanged.connect(self.draw)
        self.measure.currentIndexChanged.connect(self.draw)
        self.dimension.currentIndexChanged.connect(self.draw)
        self.save_button.clicked.connect(self._choose_save)
        ctx.data_changed.connect(self._data_changed)
        if not self.allowed:
            self.status.setText(
                "Your role cannot see the evaluation; ask a provider manager or the coordinator."
            )

    # -- loading -------------------------------------------------------------------------
    def selected_period(self) -> Period:
        return self.period.currentData()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        """A light/dark switch in Settings redraws the charts in the new palette."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "pack", None) is not None:
            self.draw()

    def _data_changed(self, _entity: str) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if not self.allowed or self._loading:
            self._stale = self._stale or self._loading
            return
        self._loading = True
        self._stale = False
        period = self.selected_period()
        self.status.setText(f"Working out the evaluation for {period.label}…")
        self.ctx.read(build_pack, period, on_done=self._loaded, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.status.setText(f"Could not work out the evaluation: {message_for(exc)}")

    def _loaded(self, pack: Pack) -> None:
        self._loading = False
        if pack.period != self.selected_period():  # the person picked another meanwhile
            self.refresh()
            return
        self.pack = pack
        self.save_button.setEnabled(True)
        funnel = pack.tables["funnel"].rows[0] if pack.tables["funnel"].rows else None
        referred = funnel[3] if funnel else 0
        self.status.setText(
            f"{pack.subtitle}: {referred} people referred. Counts of 1 to {pack.threshold - 1} "
            f"are shown as <{pack.threshold} and never drawn."
        )
        if referred == 0:
            self.empty.setText(
                f"No one was referred in {self.period.currentText().strip()}, so there is "
                "nothing to chart yet.\n\nThe charts fill in as young people are enrolled, "
                "attend sessions and complete a baseline and an exit questionnaire. Choose "
                "another period above to see an earlier year."
            )
            self.charts_stack.setCurrentWidget(self.empty)
        else:
            self.charts_stack.setCurrentIndex(0)
        self._fill(
            self.unit,
            [f"{level}: {name}" if level != "All" else name for level, name in pack.units],
            pack.units,
        )
        self._fill(self.dimension, charts.dimensions(pack), charts.dimensions(pack))
        self.draw()

    def _fill(self, combo: QComboBox, labels: list[str], data: list) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for label, item in zip(labels, data, strict=True):
            combo.addItem(label, item)
        index = combo.findData(current) if current is not None else -1
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def draw(self) -> None:
        pack = self.pack
        if pack is None or self.unit.currentData() is None:
            return
        unit = self.unit.currentData()
        measures = charts.measures_of(pack, unit)
        if [self.measure.itemData(i) for i in range(self.measure.count())] != measures:
            self._fill(self.measure, [charts.abbreviation(m) for m in measures], measures)
            for i, m in enumerate(measures):
                self.measure.setItemData(i, m, Qt.ItemDataRole.ToolTipRole)
        measure = self.measure.currentData()
        dimension = self.dimension.currentData() or "Ethnic group"
        charts.use_dark_theme(self.palette().color(QPalette.ColorRole.Window).lightness() < 128)
        cards = self.cards
        cards["funnel"].show_chart(lambda: charts.funnel_chart(pack, unit))
        cards["change"].show_chart(lambda: charts.change_chart(pack, unit, measure))
        cards["reliable"].show_chart(lambda: charts.reliable_chart(pack, unit))
        cards["dose"].show_chart(lambda: charts.dose_chart(pack, unit, measure))
        cards["gaps"].show_chart(lambda: charts.gaps_chart(pack, unit, dimension))
        cards["population"].show_chart(lambda: charts.population_chart(pack, unit, dimension))

    # -- saving --------------------------------------------------------------------------
    def _choose_save(self) -> None:
        period = self.selected_period()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the evaluation pack",
            f"evaluation-{period.label}.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if path:
            self.save_to(Path(path), with_pdf=self.with_pdf.isChecked())

    def save_to(self, path: Path, *, with_pdf: bool = True) -> None:
        from ui.evaluation_pdf import write_pdf

        pdf = path.with_suffix(".pdf") if with_pdf else None
        self.save_button.setEnabled(False)
        self.status.setText(f"Saving {path.name}{' and its PDF' if pdf else ''}…")
        self.ctx.run_op(
            save_pack,
            self.selected_period(),
            path,
            pdf=pdf,
            pdf_writer=self.gui_call.wrap(write_pdf) if pdf else None,
            changes=(),
            on_done=self._saved,
            on_error=self._save_failed,
        )

    def _saved(self, result: tuple[Pack, list[Path]]) -> None:
        self.save_button.setEnabled(True)
        self.status.setText("Saved " + " and ".join(str(p) for p in result[1]) + ".")

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.status.setText(f"Not saved: {message_for(exc)}")
