"""The register of a session: tick who came (Space), say how (A/L/E/X), add walk-ins."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.forms.findings_view import FieldMessage
from ui.models.register_model import COL_NOTE, COL_PRESENT, COL_STATUS, RegisterModel

STATUS_KEYS = {
    Qt.Key.Key_A: "attended",
    Qt.Key.Key_L: "late",
    Qt.Key.Key_E: "left_early",
    Qt.Key.Key_X: "absent",
}


class RegisterView(QTableView):
    """Space ticks the current row and keeps the cursor there; A/L/E/X set how they attended."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.setAccessibleName("Register")
        self.setToolTip(
            "Up/Down to move, Space to tick who came. "
            "A attended, L arrived late, E left early, X absent."
        )

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
        if event.key() == Qt.Key.Key_Space and row >= 0:
            model.toggle(row)
            event.accept()
            return
        if event.key() in STATUS_KEYS and not event.modifiers() and row >= 0:
            model.set_status(row, STATUS_KEYS[event.key()])
            event.accept()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        if not self.currentIndex().isValid() and self.model() and self.model().rowCount():
            self.setCurrentIndex(self.model().index(0, COL_PRESENT))


class RegisterPanel(QWidget):
    """Buttons above the register table, a count, and the register's own findings."""

    start_from_last = Signal()
    add_walk_in = Signal()
    new_participant = Signal()

    def __init__(self, model: RegisterModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel("<b>Register</b>")
        self.count = QLabel()
        self.last_button = QPushButton("Start from &last session's attendees")
        self.walk_in_button = QPushButton("Add &walk-in…")
        self.new_button = QPushButton("New &participant…")
        self.last_button.setToolTip("List everyone from this intervention's last session")
        self.walk_in_button.setToolTip("Find someone already on the system and tick them")
        self.new_button.setToolTip("Add a young person who is new to you, without leaving")
        self.view = RegisterView()
        self.view.setModel(model)
        self.view.setColumnWidth(COL_STATUS, 110)
        self.message = FieldMessage(self)
        self.empty = QLabel(
            "No one on the register yet. Start from last session's attendees, add a walk-in, "
            "or add a new participant."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(placeholder-text);")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(self.last_button)
        buttons.addWidget(self.walk_in_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        keys = QLabel("Space ticks · A attended · L late · E left early · X absent")
        keys.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(keys)

        self.last_button.clicked.connect(self.start_from_last)
        self.walk_in_button.clicked.connect(self.add_walk_in)
        self.new_button.clicked.connect(self.new_participant)
        model.changed.connect(self._update)
        self.view.setColumnHidden(COL_NOTE, False)
        self._update()

    def _update(self) -> None:
        rows = self.model.rowCount()
        ticked = self.model.ticked_count()
        self.count.setText(f"{ticked} of {rows} ticked" if rows else "")
        self.empty.setVisible(rows == 0)
