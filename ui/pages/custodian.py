"""The linkage custodian's page (a ``vrp init --custodian`` workspace, shown in place of Sync):
its fingerprint, the key generation in force, the providers it has issued the key to, and
issuing a pack from a provider's request after comparing fingerprints by phone.

The custodian is not the VRP: its packs are sealed to each provider's own key, so the VRP can
carry them but not open them. Store work goes through ``ctx.read`` / ``ctx.run_op``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ui.context import AppContext
from ui.pages.sync import _fill, _table, scrolling_page
from vrp_desktop import clock
from vrp_desktop.sync import linkage


class CustodianPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.info: dict[str, Any] = {}
        body, layout, self.message = scrolling_page(self, "Linkage custodian")

        who = QGroupBox("This custodian", body)
        row = QHBoxLayout(who)
        self.status_label = QLabel(who)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.status_label, 1)
        self.rotate_button = QPushButton("Rotate key…", who)
        self.rotate_button.setToolTip("Make a new linkage key and destroy the old one")
        self.rotate_button.clicked.connect(self.rotate)
        row.addWidget(self.rotate_button)
        layout.addWidget(who)

        issue = QGroupBox("Issue the key to a provider", body)
        form = QFormLayout(issue)
        request_row = QHBoxLayout()
        self.request_edit = QLineEdit(issue)
        self.request_edit.setPlaceholderText("The linkage request file the provider sent")
        self.request_edit.setAccessibleName("Linkage request file")
        browse = QPushButton("Choose…", issue)
        browse.clicked.connect(self._choose_request)
        request_row.addWidget(self.request_edit, 1)
        request_row.addWidget(browse)
        form.addRow("Request", request_row)
        self.fingerprint_edit = QLineEdit(issue)
        self.fingerprint_edit.setPlaceholderText("What the provider reads to you by phone")
        self.fingerprint_edit.setAccessibleName("Provider's linkage fingerprint")
        form.addRow("Provider's fingerprint", self.fingerprint_edit)
        self.issue_button = QPushButton("Issue linkage pack…", issue)
        self.issue_button.clicked.connect(self._choose_out)
        form.addRow("", self.issue_button)
        layout.addWidget(issue)

        issued = QGroupBox("Providers issued the key", body)
        column = QFormLayout(issued)
        self.issued = _table(
            issued, ["Provider", "Name", "Partnership", "Generation", "Issued", "Status"]
        )
        self.issued.setMinimumHeight(200)
        column.addRow(self.issued)
        layout.addWidget(issued)
        layout.addStretch(1)
        ctx.data_changed.connect(lambda _entity: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.ctx.read(linkage.custodian_status, on_done=self._show, on_error=self.message.fail)

    def _show(self, info: dict[str, Any]) -> None:
        self.info = info
        waiting = info["to_reissue"]
        self.status_label.setText(
            f"{info['name']}: your fingerprint is {info['fingerprint']} (read it to each "
            f"provider when they import your pack). Linkage key generation {info['generation']}."
            + (f"\nStill to be issued the current key: {', '.join(waiting)}." if waiting else "")
        )
        rows = [
            [
                i["provider_code"],
                i.get("provider_name") or "",
                i.get("partnership") or "",
                i["generation"],
                clock.show(dt.datetime.fromisoformat(i["issued_at"])),
                "current" if i["generation"] == info["generation"] else "old key: issue again",
            ]
            for i in info["issued"]
        ]
        _fill(self.issued, rows)

    def _choose_request(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Linkage request", "", "Linkage requests (*.vrplinkreq);;All files (*)"
        )
        if path:
            self.request_edit.setText(path)

    def _choose_out(self) -> None:
        if not self.request_edit.text().strip() or not self.fingerprint_edit.text().strip():
            self.message.say(
                "Choose the provider's request and type the fingerprint they read to you.",
                problem=True,
            )
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save linkage pack", "linkage.vrplinkage", "Linkage packs (*.vrplinkage)"
        )
        if path:
            self.issue(path)

    def issue(self, out: str) -> None:
        request = Path(self.request_edit.text().strip())

        def done(info) -> None:
            self.fingerprint_edit.clear()
            self.message.say(
                f"Linkage pack for {info['provider_code']} saved to {info['file']}. Only they "
                "can open it; send it back through the VRP."
            )

        self.ctx.run_op(
            linkage.issue, request, Path(out),
            expect_fingerprint=self.fingerprint_edit.text().strip(),
            changes=("settings",), on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def rotate(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self,
            "Rotate the linkage key",
            "Make a new linkage key and destroy the current one? Every provider then needs a "
            "new pack from their request.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.do_rotate()

    def do_rotate(self) -> None:
        def done(info) -> None:
            self.message.say(
                f"New linkage key, generation {info['generation']}; the old one was destroyed. "
                "Issue it to every provider listed."
            )

        self.ctx.run_op(
            linkage.rotate, changes=("settings",), on_done=done, on_error=self.message.fail
        )
