"""Two small questions the session form asks: "this looks like a duplicate" and "why delete?".

Both are non-blocking dialogs (``open()``), so the window keeps painting and tests can answer
them like a person would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.forms.keyboard import Button


class DuplicateDialog(QDialog):
    """Shown before saving a session that looks like one already logged. The cursor waits in
    the reason: with nothing typed Enter (or Esc) goes back; keeping both needs a reason, and
    once one is typed Enter saves both. The reason travels as the warning's reason."""

    def __init__(self, parent: QWidget | None, duplicates: Sequence[dict[str, Any]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Already logged?")
        lines = []
        for d in duplicates:
            who = (
                f"{d['shared']} of the same young people"
                if d["shared"]
                else "no one marked as attending"
            )
            lines.append(f"• {d['starts_at']:%a %d/%m/%Y %H:%M}, {who}")
        text = QLabel(
            "This looks like a session already logged for this intervention at an overlapping "
            "time:\n\n" + "\n".join(lines) + "\n\nGo back to check it (nothing is saved yet), "
            "or say why both sessions are needed."
        )
        text.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. two separate groups ran at the same time")
        form = QFormLayout()
        form.addRow("&Why keep both?", self.reason)
        self.buttons = QDialogButtonBox(self)
        self.back_button = Button("&Go back", self)
        self.keep_button = Button("Save &both", self)
        self.buttons.addButton(self.back_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.keep_button.setEnabled(False)
        self.reason.textChanged.connect(self._reason_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        # only now are the buttons inside this dialog: a default set on a button with no dialog
        # yet is forgotten, and on showing Qt would pick the first button in the focus chain,
        # which (depending on the style's button order) was the disabled "Save both", so
        # Enter did nothing
        self._reason_changed("")
        self.reason.setFocus()

    def _reason_changed(self, text: str) -> None:
        given = bool(text.strip())
        self.keep_button.setEnabled(given)
        self.keep_button.setDefault(given)
        self.back_button.setDefault(not given)

    def reason_text(self) -> str:
        return self.reason.text().strip()


class DeleteSessionDialog(QDialog):
    """Asks why a session is being deleted; the reason is kept in the local audit log only."""

    def __init__(self, parent: QWidget | None, description: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete this session?")
        text = QLabel(
            f"Delete {description}? Its register goes with it, and the VRP is told to delete "
            "its copy in your next batch. This cannot be undone."
        )
        text.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. logged twice; wrong group")
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.delete_button = Button("&Delete session", self)
        self.buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete_button.setEnabled(False)
        self.reason.textChanged.connect(lambda t: self.delete_button.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        # set once the button is inside this dialog (see DuplicateDialog): Enter deletes once a
        # reason is typed, and does nothing before (Esc cancels)
        self.delete_button.setDefault(True)
        self.reason.setFocus()

    def reason_text(self) -> str:
        return self.reason.text().strip()


def ask_and_delete(
    parent: QWidget, ctx: Any, session_id: str, description: str, on_deleted: Any
) -> DeleteSessionDialog:
    """Ask for the reason, then delete the session as one reported action (list and form)."""
    from ui.errors import show_error
    from vrp_desktop.services import sessions

    dialog = DeleteSessionDialog(parent, description)

    def finished(result: int) -> None:
        if result:
            ctx.run_op(
                sessions.delete_session,
                session_id,
                reason=dialog.reason_text(),
                changes=("session", "attendance"),
                on_done=lambda _r: on_deleted(session_id),
                on_error=lambda exc: show_error(parent, exc, action="delete the session"),
            )

    dialog.finished.connect(finished)
    dialog.open()
    return dialog
