"""Today: the week at a glance, what needs fixing, and two charts.

The numbers come from ``vrp_desktop.services.dashboard.summary`` in one store call, refreshed
when the page is shown and after any saved change. Each record needing attention opens the page
that fixes it with a click or Enter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QMargins, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.context import AppContext
from ui.forms.keyboard import Button
from vrp_desktop import codes
from vrp_desktop.services import dashboard

ITEM_TARGET = Qt.ItemDataRole.UserRole + 1


class Tile(QFrame):
    """A big number with a caption underneath."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "tile")
        self.number = QLabel("–", self)
        self.number.setProperty("role", "tile-number")
        self.caption = QLabel(caption, self)
        self.caption.setProperty("role", "tile-caption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addWidget(self.number)
        layout.addWidget(self.caption)

    def set(self, number: int, caption: str | None = None) -> None:
        self.number.setText(f"{number:,}")
        if caption is not None:
            self.caption.setText(caption)
        self.setAccessibleName(f"{self.caption.text()}: {number}")


class AttentionList(QListWidget):
    """A list where one click or Enter on an item means "take me there"."""

    chosen = Signal(QListWidgetItem)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        item = self.itemAt(event.position().toPoint())
        if item is not None and event.button() == Qt.MouseButton.LeftButton:
            self.chosen.emit(item)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            item = self.currentItem()
            if item is not None:
                self.chosen.emit(item)
                return
        super().keyPressEvent(event)


def _count_axis(largest: int) -> QValueAxis:
    """A y axis for counts: whole-number ticks only (a nice-numbers axis over 0-1 labels its
    quarter steps "0, 0, 1, 1" once formatted as integers)."""
    steps = (m * 10**e for e in range(12) for m in (1, 2, 5))
    step = next(s for s in steps if -(-(largest + 1) // s) <= 5)  # room above the tallest bar
    top = -(-(largest + 1) // step) * step
    axis = QValueAxis()
    axis.setRange(0, top)
    axis.setTickCount(top // step + 1)
    axis.setLabelFormat("%d")
    return axis


def _smaller(font: QFont) -> QFont:
    smaller = QFont(font)
    smaller.setPointSizeF(max(6.0, font.pointSizeF() - 1.5))
    return smaller


def _chart_view(title: str, parent: QWidget) -> QChartView:
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart, parent)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(220)
    view.setAccessibleName(title)
    return view


class TodayPage(QWidget):
    """Dashboard for the signed-in provider."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: dict[str, Any] | None = None
        self._stale = True
        self._loading = False

        title = QLabel("Today", self)
        title.setProperty("role", "page-title")
        self.date_label = QLabel(f"{dt.date.today():%A %d %B %Y}", self)
        self.date_label.setProperty("role", "hint")
        self.log_button = Button("&Log a session", self)
        self.log_button.setObjectName("log_session")
        self.log_button.clicked.connect(lambda: self.ctx.navigate.emit("sessions", "new"))
        header = QHBoxLayout()
        header.addWidget(title)
        header.addWidget(self.date_label, 0, Qt.AlignmentFlag.AlignBottom)
        header.addStretch(1)
        header.addWidget(self.log_button)

        self.week_tile = Tile("Sessions this week", self)
        self.week_tile.setObjectName("tile_week")
        self.reach_tile = Tile("People reached this quarter", self)
        self.reach_tile.setObjectName("tile_reach")
        self.attention_tile = Tile("Records needing attention", self)
        self.attention_tile.setObjectName("tile_attention")
        tiles = QHBoxLayout()
        for tile in (self.week_tile, self.reach_tile, self.attention_tile):
            tiles.addWidget(tile)

        # attention list (with its empty state)
        attention_title = QLabel("Needs attention", self)
        attention_title.setStyleSheet("font-weight: 600;")
        self.attention_list = AttentionList(self)
        self.attention_list.setObjectName("attention_list")
        self.attention_list.setAccessibleName("Records needing attention")
        self.attention_list.setWordWrap(True)
        self.attention_list.setAlternatingRowColors(True)
        self.attention_list.chosen.connect(self._open_item)
        attention_title.setBuddy(self.attention_list)
        self.attention_empty = QLabel(
            "Nothing needs attention. Records saved with problems appear here, with one click "
            "to fix them.",
            self,
        )
        self.attention_empty.setObjectName("attention_empty")
        self.attention_empty.setWordWrap(True)
        self.attention_empty.setProperty("role", "hint")
        self.attention_empty.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.attention_stack = QStackedWidget(self)
        self.attention_stack.addWidget(self.attention_list)
        self.attention_stack.addWidget(self.attention_empty)
        attention_box = QVBoxLayout()
        attention_box.addWidget(attention_title)
        attention_box.addWidget(self.attention_stack, 1)

        # charts, or the empty state when nothing is logged yet
        self.weekly_view = _chart_view("Sessions per week (last 12 weeks)", self)
        self.reach_view = _chart_view("People reached this quarter, by age and gender", self)
        charts = QWidget(self)
        charts_layout = QVBoxLayout(charts)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        charts_layout.addWidget(self.weekly_view)
        charts_layout.addWidget(self.reach_view)
        self.empty = QWidget(self)
        self.empty.setObjectName("empty_state")
        self.empty_text = empty_text = QLabel("No sessions yet — log one", self.empty)
        empty_text.setObjectName("empty_text")
        empty_text.setProperty("role", "page-title")
        self.empty_hint = empty_hint = QLabel(
            "Once sessions are logged, this page shows how many happened each week and who you "
            "reached this quarter.",
            self.empty,
        )
        empty_hint.setWordWrap(True)
        empty_hint.setProperty("role", "hint")
        # centred text in a full-width label: a wrapped label given a layout alignment gets its
        # one-line height and its second and third lines were cut off
        empty_hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.empty_button = QPushButton("Log the first session", self.empty)
        self.empty_button.setObjectName("empty_log_session")
        self.empty_button.clicked.connect(lambda: self.ctx.navigate.emit(self._empty_goes, ""))
        self._empty_goes = "sessions"
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(empty_text, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addWidget(empty_hint)
        empty_layout.addWidget(self.empty_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(2)
        self.chart_stack = QStackedWidget(self)
        self.chart_stack.addWidget(charts)
        self.chart_stack.addWidget(self.empty)

        body = QGridLayout()
        body.addLayout(attention_box, 0, 0)
        body.addWidget(self.chart_stack, 0, 1)
        body.setColumnStretch(0, 2)
        body.setColumnStretch(1, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addLayout(tiles)
        layout.addLayout(body, 1)

        self.setTabOrder(self.log_button, self.attention_list)
        ctx.data_changed.connect(self._data_changed)

    # -- loading -------------------------------------------------------------------------
    def showEvent(self, event: QEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _data_changed(self, _entity: str) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if self.ctx.ws is None or self._loading:
            return
        self._loading = True
        self._stale = False
        self.ctx.read(dashboard.summary, on_done=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        from ui.errors import message_for

        self.date_label.setText(f"Could not load the dashboard: {message_for(exc)}")

    def _show(self, data: dict[str, Any]) -> None:
        self._loading = False
        self.data = data
        day: dt.date = data["today"]
        self.date_label.setText(f"{day:%A %d %B %Y}")
        self.week_tile.set(
            data["sessions_this_week"], f"Sessions this week (from Mon {data['week_start']:%d %b})"
        )
        label = data["quarter"][2]
        self.reach_tile.set(data["reached_this_quarter"], f"People reached this quarter ({label})")
        self.attention_tile.set(data["attention_total"])
        self._fill_attention(data["attention"])
        if data["sessions_total"] == 0:
            self._say_empty(data.get("kind") == "coordinator")
            self.chart_stack.setCurrentWidget(self.empty)
        else:
            self.chart_stack.setCurrentIndex(0)
            self._draw_weekly(data["sessions_per_week"])
            self._draw_reach(data["reach_by_age_gender"], label)

    def _say_empty(self, coordinator: bool) -> None:
        """A provider is asked for its first session; a coordinator, which keeps none of its
        own, is sent to where its providers' records arrive."""
        if coordinator:
            self.empty_text.setText("Your providers' records arrive in the Inbox")
            self.empty_hint.setText(
                "A VRP coordinator logs no sessions here. Batches from providers are imported "
                "in the Inbox; the Returns and Evaluation pages add them up."
            )
            self.empty_button.setText("Open the Inbox")
            self._empty_goes = "sync"  # the coordinator's Inbox
        else:
            self.empty_text.setText("No sessions yet — log one")
            self.empty_hint.setText(
                "Once sessions are logged, this page shows how many happened each week and "
                "who you reached this quarter."
            )
            self.empty_button.setText("Log the first session")
            self._empty_goes = "sessions"

    def changeEvent(self, event: QEvent) -> None:
        """A light/dark switch in Settings redraws the charts in the new palette."""
        super().changeEvent(event)
        data = getattr(self, "data", None)
        if event.type() == QEvent.Type.PaletteChange and data and data["sessions_total"]:
            self._draw_weekly(data["sessions_per_week"])
            self._draw_reach(data["reach_by_age_gender"], data["quarter"][2])

    def _fill_attention(self, items: list[dict[str, Any]]) -> None:
        self.attention_list.clear()
        for item in items:
            entry = QListWidgetItem(f"{item['label']}\n{item['message']}")
            entry.setData(ITEM_TARGET, (item["page"], item["record_id"]))
            entry.setToolTip("\n".join(f["message"] for f in item["findings"]) or item["label"])
            self.attention_list.addItem(entry)
        if items:
            self.attention_stack.setCurrentWidget(self.attention_list)
        else:
            self.attention_stack.setCurrentWidget(self.attention_empty)

    def _open_item(self, item: QListWidgetItem) -> None:
        page, record_id = item.data(ITEM_TARGET)
        self.ctx.navigate.emit(page, record_id)

    def open_record(self, record_id: str) -> None:
        """``"attention"`` puts the keyboard in the attention list."""
        if record_id == "attention":
            self.attention_list.setFocus()
            if self.attention_list.count() and self.attention_list.currentRow() < 0:
                self.attention_list.setCurrentRow(0)

    # -- charts --------------------------------------------------------------------------
    def _style(self, chart: QChart) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        chart.setTheme(
            QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight
        )
        chart.setBackgroundBrush(self.palette().brush(QPalette.ColorRole.Base))
        chart.setTitleBrush(self.palette().brush(QPalette.ColorRole.WindowText))

    def _draw_weekly(self, weeks: list[tuple[dt.date, int]]) -> None:
        chart = self.weekly_view.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._style(chart)
        bars = QBarSet("Sessions")
        for _monday, n in weeks:
            bars.append(n)
        series = QBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([f"{monday.day}/{monday.month}" for monday, _ in weeks])
        x.setTitleText("Week starting (day/month)")
        x.setLabelsFont(_smaller(x.labelsFont()))  # twelve weeks fit at 1280 wide
        y = _count_axis(max(n for _, n in weeks) if weeks else 0)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        chart.legend().hide()

    def _draw_reach(self, reach: dict[tuple[str, str], int], quarter: str) -> None:
        chart = self.reach_view.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._style(chart)
        chart.setTitle(f"People reached in {quarter}, by age band and gender")
        bands = [
            b for b in (*codes.AGE_BANDS, dashboard.UNKNOWN) if any(band == b for band, _ in reach)
        ] or list(codes.AGE_BANDS[1:6])
        genders = [g for g in codes.GENDERS if any(gender == g for _, gender in reach)]
        series = QStackedBarSeries()
        for gender in genders:
            bar = QBarSet(codes.GENDERS.get(gender, gender))
            for band in bands:
                bar.append(reach.get((band, gender), 0))
            series.append(bar)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([b if b != dashboard.UNKNOWN else "Age not known" for b in bands])
        totals = [sum(reach.get((b, g), 0) for g in genders) for b in bands]
        y = _count_axis(max(totals, default=0))
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        chart.legend().setVisible(bool(genders))
