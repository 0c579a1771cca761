"""Find one existing participant by typing (walk-ins, questionnaires)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
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


class ParticipantPicker(QDialog):
    """A dialog around ``ParticipantSearch``; ``chosen`` holds the row after accept."""

    def __init__(self, ctx, parent: QWidget | None, *, title: str, hint: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(520, 420)
        self.chosen: dict[str, Any] | None = None
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

    def _picked(self, row: dict) -> None:
        self.chosen = row
        self.accept()

    def _ok(self) -> None:
        row = self.search.current()
        if row is not None:
            self._picked(row)
