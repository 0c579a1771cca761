"""Find one existing participant by typing (walk-ins on a register, questionnaires)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.models.participants_model import COL_NAME, ParticipantsModel, RowRole
from vrp_desktop.services import enrolments


class ParticipantSearch(QWidget):
    """A search box over a short lazy list; ``picked(row)`` on Enter or double-click."""

    picked = Signal(dict)

    def __init__(self, ctx, parent: QWidget | None = None, *, page_size: int = 50) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Type a name, reference or postcode district…")
        self.edit.setAccessibleName("Find a participant")
        self.edit.setClearButtonEnabled(True)
        self.model = ParticipantsModel(ctx, self, page_size=page_size)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Matching participants")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        for column in range(2, self.model.columnCount()):
            self.table.hideColumn(column)
        self.table.horizontalHeader().setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.table)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.run)
        self.edit.textChanged.connect(self._timer.start)
        self.edit.textChanged.connect(self.model.read_ahead)  # read during the typing pause
        self.edit.returnPressed.connect(self._enter)
        self.edit.installEventFilter(self)
        self.table.activated.connect(self._pick_index)
        self.model.set_query("")

    def run(self) -> None:
        self._timer.stop()
        self.model.set_query(self.edit.text())
        self.model.when_ready(self._select_first)

    def _select_first(self) -> None:
        if self.model.rowCount():
            self.table.selectRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            self.run()
            self.table.setFocus()
            return True
        return super().eventFilter(watched, event)

    def _enter(self) -> None:
        if self._timer.isActive():
            self.run()
        self.model.when_ready(self._pick_current)  # after the typed search's rows are in

    def _pick_current(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid() and self.model.rowCount():
            index = self.model.index(0, COL_NAME)
        self._pick_index(index)

    def _pick_index(self, index) -> None:
        if index.isValid():
            self.picked.emit(index.siblingAtColumn(COL_NAME).data(RowRole))

    def current(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return index.siblingAtColumn(COL_NAME).data(RowRole) if index.isValid() else None


STATE_LABELS = {
    "enrolled": "Enrolled",
    "starts later": "Starts later",
    "not enrolled": "Not enrolled (walk-in)",
    "ended": "Enrolment ended",
}


class RegisterMatches(QAbstractTableModel):
    """Rows from ``enrolments.find_for_register``: name, age, reference, how they stand."""

    HEADERS = ("Name", "Age", "Reference", "Enrolment")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, i: int) -> dict[str, Any] | None:
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == RowRole:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r["display_name"],
                "" if r["age"] is None else str(r["age"]),
                r["reference"],
                STATE_LABELS.get(r["state"], r["state"]),
            )[index.column()]
        return None


class RegisterSearch(QWidget):
    """Find someone to add to a session: the intervention's enrolled people first, with age and
    reference; ended enrolments only when asked. ``picked(row)`` on Enter or double-click."""

    picked = Signal(dict)

    def __init__(
        self, ctx, intervention_id: str | None, day: dt.date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.intervention_id = intervention_id
        self.day = day
        self._generation = 0
        self._pending_enter = False
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Type a few letters of a name or a reference…")
        self.edit.setAccessibleName("Find a participant")
        self.edit.setClearButtonEnabled(True)
        self.show_ended = QCheckBox("Show people whose enrolment has &ended")
        self.model = RegisterMatches(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Matching participants")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.table)
        layout.addWidget(self.show_ended)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.run)
        self.edit.textChanged.connect(self._timer.start)
        self.edit.returnPressed.connect(self._enter)
        self.edit.installEventFilter(self)
        self.show_ended.toggled.connect(self.run)
        self.table.activated.connect(self._pick_index)
        self.run()

    def run(self) -> None:
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        self.ctx.read(
            enrolments.find_for_register,
            self.edit.text().strip(),
            self.intervention_id,
            self.day,
            include_ended=self.show_ended.isChecked(),
            on_done=lambda rows: self._loaded(generation, rows),
        )

    def _loaded(self, generation: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        if self._pending_enter:
            self._pending_enter = False
            self._pick_index(self.table.currentIndex())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            self.table.setFocus()
            return True
        return super().eventFilter(watched, event)

    def _enter(self) -> None:
        """Enter picks the first match, waiting for the search still in flight if need be."""
        if self._timer.isActive():
            self._pending_enter = True
            self.run()
            return
        self._pick_index(self.table.currentIndex())

    def _pick_index(self, index) -> None:
        if not index.isValid() and self.model.rowCount():
            index = self.model.index(0, 0)
        if index.isValid():
            self.picked.emit(self.model.row(index.row()))

    def current(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None


class ParticipantPicker(QDialog):
    """A dialog around a search; ``chosen`` holds the row after accept.

    With an ``intervention_id`` it is the session register's picker (``RegisterSearch``);
    without, the plain register search."""

    def __init__(
        self,
        ctx,
        parent: QWidget | None,
        *,
        title: str,
        hint: str = "",
        intervention_id: str | None = None,
        day: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 440)
        self.chosen: dict[str, Any] | None = None
        if day is not None:
            self.search = RegisterSearch(ctx, intervention_id, day, self)
        else:
            self.search = ParticipantSearch(ctx, self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if hint:
            label = QLabel(hint)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addWidget(self.search)
        layout.addWidget(buttons)
        self.search.picked.connect(self._picked)
        self.search.edit.setFocus()

    def keyPressEvent(self, event) -> None:
        """Enter belongs to the search (it may still be finding what was typed), not to OK."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    def _picked(self, row: dict) -> None:
        if self.chosen is not None:
            return
        self.chosen = row
        self.accept()

    def _ok(self) -> None:
        row = self.search.current()
        if row is not None:
            self._picked(row)
