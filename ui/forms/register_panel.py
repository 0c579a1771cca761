"""The register of a session: type a name to jump to it, Space for present/absent, digits for
how they attended; add someone who is not on the roster, enrol a walk-in in one step."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.forms.findings_view import FieldMessage
from ui.forms.keyboard import Button
from ui.models.register_model import COL_NOTE, COL_PRESENT, COL_STATUS, RegisterModel

STATUS_KEYS = {
    Qt.Key.Key_1: "attended",
    Qt.Key.Key_2: "late",
    Qt.Key.Key_3: "left_early",
    Qt.Key.Key_0: "absent",
}
KEYS_HINT = (
    "Type a name to jump · Space present/absent · 0 absent · 1 attended · 2 late · 3 left early"
)


class FocusRowDelegate(QStyledItemDelegate):
    """Draws a clear ring round the current row while the register has the keyboard focus."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        super().paint(painter, option, index)
        view = self.parent()
        if not (isinstance(view, QTableView) and view.hasFocus()):
            return
        if index.row() != view.currentIndex().row():
            return
        painter.save()
        pen = QPen(view.palette().color(view.palette().ColorRole.Highlight).darker(140), 2)
        if view.palette().color(view.palette().ColorRole.Base).lightness() < 128:
            pen.setColor(view.palette().color(view.palette().ColorRole.Highlight).lighter(150))
        painter.setPen(pen)
        r: QRect = option.rect.adjusted(0, 1, 0, -1)
        painter.drawLine(r.topLeft(), r.topRight())
        painter.drawLine(r.bottomLeft(), r.bottomRight())
        if index.column() == 0:
            painter.drawLine(r.topLeft(), r.bottomLeft())
        if index.column() == index.model().columnCount() - 1:
            painter.drawLine(r.topRight(), r.bottomRight())
        painter.restore()


class RegisterView(QTableView):
    """Letters jump to a name, Space ticks (present) or unticks (absent) and keeps the cursor
    there, 1/2/3 set how they attended, 0 marks absent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("register")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setItemDelegate(FocusRowDelegate(self))
        self.verticalHeader().hide()
        self.setAccessibleName("Register")
        self.setToolTip(KEYS_HINT.replace(" · ", "\n"))

    def setModel(self, model) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL_PRESENT, QHeaderView.ResizeMode.Stretch)
        for column in range(1, model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def keyPressEvent(self, event) -> None:
        model: RegisterModel = self.model()
        row = self.currentIndex().row()
        if row < 0 and model.rowCount() and event.key() in (Qt.Key.Key_Space, *STATUS_KEYS):
            row = 0
            self.setCurrentIndex(model.index(0, COL_PRESENT))
        plain = not (
            event.modifiers()
            & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
        )
        if event.key() == Qt.Key.Key_Space and row >= 0 and plain:
            model.toggle(row)
            event.accept()
            return
        if event.key() in STATUS_KEYS and plain and row >= 0:
            model.set_status(row, STATUS_KEYS[event.key()])
            event.accept()
            return
        super().keyPressEvent(event)

    def keyboardSearch(self, search: str) -> None:
        """Type-ahead on the names, whatever column the cursor is in."""
        current = self.currentIndex()
        if current.isValid() and current.column() != COL_PRESENT:
            self.setCurrentIndex(current.siblingAtColumn(COL_PRESENT))
        super().keyboardSearch(search)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        if not self.currentIndex().isValid() and self.model() and self.model().rowCount():
            self.setCurrentIndex(self.model().index(0, COL_PRESENT))
        self.viewport().update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.viewport().update()


class RegisterPanel(QWidget):
    """Buttons above the register table, a count, and the register's own findings."""

    add_walk_in = Signal()
    new_participant = Signal()
    enrol_current = Signal()

    def __init__(self, model: RegisterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel("Re&gister")
        self.title.setStyleSheet("font-weight: 600;")
        self.count = QLabel()
        self.walk_in_button = Button("Add &person…")
        self.new_button = Button("New &young person…")
        self.enrol_button = Button("&Enrol…")
        self.walk_in_button.setToolTip(
            "Find someone already on the system (this intervention's people first) and tick them"
        )
        self.new_button.setToolTip("Add a young person who is new to you, without leaving")
        self.enrol_button.setToolTip(
            "Enrol the selected person in this intervention from the session's date"
        )
        self.view = RegisterView()
        self.view.setModel(model)
        self.view.setColumnWidth(COL_STATUS, 110)
        self.title.setBuddy(self.view)
        self.message = FieldMessage(self)
        self.empty = QLabel(
            "No one on the register yet. A group's register lists everyone enrolled on the "
            "session's date; add anyone else with Add person."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(placeholder-text);")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(self.walk_in_button)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.enrol_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        keys = QLabel(KEYS_HINT)
        keys.setWordWrap(True)
        keys.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(keys)

        self.walk_in_button.clicked.connect(self.add_walk_in)
        self.new_button.clicked.connect(self.new_participant)
        self.enrol_button.clicked.connect(self.enrol_current)
        model.changed.connect(self._update)
        self.view.setColumnHidden(COL_NOTE, False)
        self._update()

    def current_row(self) -> int:
        return self.view.currentIndex().row()

    def _update(self) -> None:
        rows = self.model.rowCount()
        ticked = self.model.ticked_count()
        absent = sum(1 for r in self.model.rows() if not r.ticked and r.kept_when_unticked)
        self.count.setText(f"{ticked} present · {absent} absent" if rows else "")
        self.empty.setVisible(rows == 0)
        self.enrol_button.setEnabled(any(r.enrolled is False for r in self.model.rows()))
