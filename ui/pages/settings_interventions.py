"""Settings → Interventions: what this provider runs, with Add, Edit, Close and Reopen.

Closed interventions stay (their sessions and history are kept) and show when "Show closed" is
ticked. The list is one read on the store thread; every change is one ``ctx.run_op`` that
reports ``"intervention"``, and the list reloads from ``data_changed``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ui.context import AppContext
from ui.errors import message_for
from ui.forms.intervention_form import InterventionDialog, describe
from ui.forms.keyboard import Button
from vrp_desktop.services import interventions as service

COLUMNS = ("Name", "Runs as", "Lead worker", "State")


def _load(ws) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows = service.list_interventions(ws, active_only=False)
    names = {c["id"]: c["name"] for c in service.framework_choices(ws)}
    return rows, names


class InterventionsBox(QGroupBox):
    """The Interventions group on the Settings page."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Interventions you run", parent)
        self.setObjectName("interventions_box")
        self.ctx = ctx
        self.rows: list[dict[str, Any]] = []
        self.framework_names: dict[str, str] = {}
        self.dialog: InterventionDialog | None = None

        self.empty = QLabel(
            "No interventions yet. Add what you run (for example a weekly football group or "
            "1:1 mentoring) so sessions can be logged against it.",
            self,
        )
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "hint")
        self.empty.hide()
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("interventions")
        self.table.setAccessibleName("Interventions")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)
        self.table.setMinimumHeight(150)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        # long names and descriptions share the width and wrap, rather than push the rest off
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)

        self.add_button = Button("Add &intervention…", self)
        self.add_button.setObjectName("add_intervention")
        self.edit_button = Button("&Edit…", self)
        self.edit_button.setObjectName("edit_intervention")
        self.close_button = Button("&Close…", self)
        self.close_button.setObjectName("close_intervention")
        self.reopen_button = Button("Re&open", self)
        self.reopen_button.setObjectName("reopen_intervention")
        self.show_closed = QCheckBox("S&how closed", self)
        self.show_closed.setObjectName("show_closed_interventions")
        self.message = QLabel(self)
        self.message.setObjectName("interventions_message")
        self.message.setWordWrap(True)
        self.message.hide()

        buttons = QHBoxLayout()
        for widget in (self.add_button, self.edit_button, self.close_button, self.reopen_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.show_closed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        for first, second in (
            (self.table, self.add_button),
            (self.add_button, self.edit_button),
            (self.edit_button, self.close_button),
            (self.close_button, self.reopen_button),
            (self.reopen_button, self.show_closed),
        ):
            QWidget.setTabOrder(first, second)

        self.add_button.clicked.connect(self.add)
        self.edit_button.clicked.connect(self.edit)
        self.close_button.clicked.connect(self.close_selected)
        self.reopen_button.clicked.connect(self.reopen)
        self.show_closed.toggled.connect(lambda _on: self._fill())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.edit())
        ctx.data_changed.connect(self._changed)
        self._update_buttons()
        self.refresh()

    # -- loading --------------------------------------------------------------------------------
    def _changed(self, entity: str) -> None:
        if entity in ("intervention", "settings"):
            self.refresh()

    def refresh(self) -> None:
        self.ctx.read(_load, on_done=self._loaded, on_error=self._failed)

    def _loaded(self, result: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
        if not isValid(self):  # the page was rebuilt while the store answered
            return
        self.rows, self.framework_names = result
        self._fill()

    def visible_rows(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["active"] or self.show_closed.isChecked()]

    def _fill(self) -> None:
        selected = self.selected()
        keep = selected["id"] if selected else None
        rows = self.visible_rows()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            state = "Open" if row["active"] else f"Closed {_day(row.get('closed_on'))}"
            cells = (
                row["name"],
                describe(row, self.framework_names),
                row.get("lead_staff") or "",
                state,
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row["id"])
                if not row["active"]:
                    item.setForeground(self.palette().placeholderText())
                self.table.setItem(r, c, item)
            if row["id"] == keep:
                self.table.selectRow(r)
        self.table.resizeRowsToContents()
        self.empty.setVisible(not self.rows)
        self.table.setVisible(bool(self.rows))
        if rows and self.table.currentRow() < 0:
            self.table.selectRow(0)
        self._update_buttons()

    def selected(self) -> dict[str, Any] | None:
        row = self.table.currentRow()
        if row < 0 or not self.table.selectedItems():
            return None
        item = self.table.item(row, 0)
        wanted = item.data(Qt.ItemDataRole.UserRole) if item else None
        return next((r for r in self.rows if r["id"] == wanted), None)

    def _update_buttons(self) -> None:
        row = self.selected()
        self.edit_button.setEnabled(row is not None)
        self.close_button.setEnabled(bool(row and row["active"]))
        self.reopen_button.setEnabled(bool(row and not row["active"]))

    # -- actions --------------------------------------------------------------------------------
    def add(self) -> InterventionDialog:
        return self._open(None)

    def edit(self) -> InterventionDialog | None:
        row = self.selected()
        return self._open(row) if row else None

    def _open(self, row: dict[str, Any] | None) -> InterventionDialog:
        self.dialog = InterventionDialog(self.ctx, self, row)
        self.dialog.accepted.connect(self._dialog_saved)
        self.dialog.open()
        return self.dialog

    def _dialog_saved(self) -> None:
        saved = self.dialog.saved if self.dialog else None
        if saved:
            self._say(f"Saved {saved['name']}.")

    def close_selected(self) -> CloseDialog | None:
        """Ask why (optional, for the audit log) and close; Esc leaves it open."""
        row = self.selected()
        if not row or not row["active"]:
            return None
        ask = CloseDialog(row["name"], self)
        ask.accepted.connect(lambda: self._close(row, ask.reason.text()))
        ask.open()
        return ask

    def _close(self, row: dict[str, Any], reason: str) -> None:
        self.ctx.run_op(
            service.close_intervention, row["id"], reason=reason.strip() or None,
            changes=("intervention",), on_done=lambda r: self._say(f"Closed {r['name']}."),
            on_error=self._failed,
        )  # fmt: skip

    def reopen(self) -> None:
        row = self.selected()
        if not row or row["active"]:
            return
        self.ctx.run_op(
            service.reopen_intervention, row["id"], changes=("intervention",),
            on_done=lambda r: self._say(f"Reopened {r['name']}."), on_error=self._failed,
        )  # fmt: skip

    def _say(self, text: str, *, problem: bool = False) -> None:
        if not isValid(self):  # the page was rebuilt while the store answered
            return
        self.message.setProperty("role", "error" if problem else "hint")
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.show()

    def _failed(self, exc: BaseException) -> None:
        if not isValid(self):  # the page was rebuilt while the store answered
            return
        self._say(message_for(exc), problem=True)


class CloseDialog(QDialog):
    """Close one intervention: what closing means, and an optional reason for the audit log."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("close_intervention_dialog")
        self.setWindowTitle(f"Close {name}")
        self.setMinimumWidth(460)
        text = QLabel(
            f"Close {name}? It leaves the session form's list. Its sessions, enrolments and "
            "history stay, and you can reopen it.",
            self,
        )
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        self.reason = QLineEdit(self)
        self.reason.setObjectName("close_reason")
        self.reason.setPlaceholderText("e.g. funding ended (optional; no names)")
        self.reason.setMaxLength(200)
        label = QLabel("&Why is it closing?", self)
        label.setBuddy(self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = Button("&Close intervention")
        buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(buttons)
        self.reason.setFocus()


def _day(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"
