"""Erasing a person cannot be undone, so the reference must be typed and a reason given."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class EraseDialog(QDialog):
    """The Erase button stays disabled until the typed reference matches and a reason is given."""

    def __init__(self, parent: QWidget | None, *, reference: str, name: str) -> None:
        super().__init__(parent)
        self.reference = reference
        self.setWindowTitle("Erase this person's data")
        self.setMinimumWidth(480)
        explain = QLabel(
            f"<p>This removes <b>{name}</b>'s names, contact details, enrolments, attendance and "
            "questionnaires from this device for good, and tells the VRP to delete its copies "
            "in the next batch. It cannot be undone.</p>"
            f"<p>To confirm, type their reference <b><nobr>{reference}</nobr></b> and say why.</p>"
        )
        explain.setWordWrap(True)
        self.typed = QLineEdit()
        self.typed.setPlaceholderText(f"Type {reference}")
        self.typed.setAccessibleName("Type the reference to confirm")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Erasure request from the young person, 24/11/2026")
        self.reason.setAccessibleName("Reason for erasure")
        form = QFormLayout()
        form.addRow("&Reference", self.typed)
        form.addRow("Rea&son", self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.erase_button = QPushButton("Erase for good")
        self.buttons.addButton(self.erase_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.typed.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self._update()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)

    def matches(self) -> bool:
        return self.typed.text().strip().upper() == self.reference.upper()

    def _update(self) -> None:
        self.erase_button.setEnabled(self.matches() and bool(self.reason.text().strip()))

    def accept(self) -> None:
        if self.erase_button.isEnabled():
            super().accept()
