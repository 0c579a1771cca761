"""The provider's Sync page: join a VRP, choose the outbox, see what goes and what stays
behind (and why), build and send a batch, import the VRP's receipt, and the history. Once the
VRP's frameworks arrive, it offers to set up the interventions run under them.

All store work goes through ``ctx.runner``; building runs with progress and Cancel. Problems
are shown in the page's message bar (never a blocking box), so nothing interrupts the work.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.context import AppContext
from ui.errors import message_for
from ui.forms.fields import CodeCombo
from ui.forms.keyboard import Button
from ui.progress import run_with_progress
from ui.worker import Cancelled, StoreRunner
from vrp_desktop import clock
from vrp_desktop.intake import client as intake_client
from vrp_desktop.services import interventions
from vrp_desktop.sync import (
    batch_build,
    linkage,
    onboarding,
    outbox,
    quasi,
    receipts,
    rejected,
    resend,
    vrp_packs,
)

#: where a record of each kind is opened
PAGE_FOR = {
    "participant": "participants",
    "enrolment": "participants",
    "session": "sessions",
    "outcome_response": "outcomes",
    "intervention": "sessions",
}
KIND_LABELS = {
    "participant": "Young person",
    "enrolment": "Enrolment",
    "session": "Session",
    "outcome_response": "Questionnaire",
    "intervention": "Intervention",
    "tombstone": "Deletion",
}


def _table(parent: QWidget, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(True)
    # rows are measured when filled, often before the table has its width: measure them again
    # when the columns change width, so a wrapped reason takes the lines it needs and no more
    header.sectionResized.connect(lambda *_: table.resizeRowsToContents())
    return table


def _fill(table: QTableWidget, rows: list[list[Any]], data: list[Any] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("" if value is None else str(value))
            if data is not None and c == 0:
                item.setData(Qt.ItemDataRole.UserRole, data[r])
            table.setItem(r, c, item)
    table.resizeRowsToContents()


class MessageBar(QLabel):
    """One line at the top of a page saying what just happened, or what went wrong."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def say(self, text: str, *, problem: bool = False) -> None:
        self.setProperty("role", "error" if problem else "info")
        theme.set_tone(self, "error-box" if problem else "ok-box")
        self.setText(text)
        self.show()

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.say("Stopped. Nothing was sent and no record changed.")
        else:
            self.say(message_for(exc), problem=True)


def scrolling_page(page: QWidget, heading: str) -> tuple[QWidget, QVBoxLayout, MessageBar]:
    """The frame the Sync and Inbox pages share: a scrolling body with a title and a message
    bar; returns the body, its layout and the message bar."""
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea(page)
    scroll.setWidgetResizable(True)
    outer.addWidget(scroll)
    body = QWidget(scroll)
    scroll.setWidget(body)
    layout = QVBoxLayout(body)
    layout.setContentsMargins(28, 20, 28, 20)
    layout.setSpacing(12)
    title = QLabel(heading, body)
    title.setProperty("role", "page-title")
    layout.addWidget(title)
    message = MessageBar(body)
    layout.addWidget(message)
    return body, layout, message


class SyncPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        #: uploads run here, never on the store thread (a slow link must not hold the store)
        self.network = StoreRunner(self)
        self.send_dialog = None
        self.status: dict[str, Any] = {}
        self.preview: dict[str, Any] = {}
        self.last_built: dict[str, Any] | None = None

        body, layout, self.message = scrolling_page(self, "Sync with your VRP")

        # who we send to
        self.vrp_box = QGroupBox("Your VRP", body)
        vrp = QVBoxLayout(self.vrp_box)
        self.vrp_label = QLabel(self.vrp_box)
        self.vrp_label.setWordWrap(True)
        self.vrp_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        vrp.addWidget(self.vrp_label)
        self.join_form = QWidget(self.vrp_box)
        form = QFormLayout(self.join_form)
        pack_row = QHBoxLayout()
        self.pack_edit = QLineEdit(self.join_form)
        self.pack_edit.setPlaceholderText("The onboarding pack file your VRP gave you")
        self.pack_edit.setAccessibleName("Onboarding pack file")
        browse = QPushButton("Choose…", self.join_form)
        browse.clicked.connect(self._choose_pack)
        pack_row.addWidget(self.pack_edit, 1)
        pack_row.addWidget(browse)
        form.addRow("Onboarding pack", pack_row)
        self.code_edit = QLineEdit(self.join_form)
        self.code_edit.setPlaceholderText("e.g. 7K2QM-4XR9T-… (read out by your coordinator)")
        self.code_edit.setAccessibleName("One-time code")
        form.addRow("One-time code", self.code_edit)
        self.join_button = QPushButton("Join this VRP", self.join_form)
        self.join_button.clicked.connect(self.join)
        form.addRow("", self.join_button)
        vrp.addWidget(self.join_form)
        layout.addWidget(self.vrp_box)
        self.linkage_box = self._linkage_box(body)
        layout.addWidget(self.linkage_box)

        # after joining: the VRP's frameworks are here; offer to set up what is run under them
        self.offer_box = QGroupBox("Set up what you run", body)
        self.offer_box.setObjectName("offer_interventions")
        offer = QHBoxLayout(self.offer_box)
        self.offer_text = QLabel(self.offer_box)
        self.offer_text.setWordWrap(True)
        self.offer_framework = CodeCombo({}, blank=None, parent=self.offer_box)
        self.offer_framework.setObjectName("offer_framework")
        self.offer_framework.setAccessibleName("Framework")
        offer_label = QLabel("&Framework:", self.offer_box)
        offer_label.setBuddy(self.offer_framework)
        self.offer_button = Button("Set &up an intervention…", self.offer_box)
        self.offer_button.setObjectName("offer_setup")
        self.offer_button.clicked.connect(self.set_up_intervention)
        offer.addWidget(self.offer_text, 1)
        offer.addWidget(offer_label)
        offer.addWidget(self.offer_framework)
        offer.addWidget(self.offer_button)
        self.offer_box.hide()
        layout.addWidget(self.offer_box)
        self.offer_dialog = None

        # the outbox
        box = QGroupBox("Outbox folder", body)
        row = QHBoxLayout(box)
        self.outbox_label = QLabel(box)
        self.outbox_label.setWordWrap(True)
        choose = QPushButton("Choose folder…", box)
        choose.clicked.connect(self._choose_outbox)
        row.addWidget(self.outbox_label, 1)
        row.addWidget(choose)
        layout.addWidget(box)

        # what goes, what stays
        send = QGroupBox("Next batch", body)
        send_layout = QVBoxLayout(send)
        top = QHBoxLayout()
        self.pending_label = QLabel(send)
        self.pending_label.setWordWrap(True)
        self.build_button = QPushButton("Build && send batch", send)
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.build_batch)
        top.addWidget(self.pending_label, 1)
        top.addWidget(self.build_button)
        send_layout.addLayout(top)
        self.rule_label = QLabel(send)  # the partnership's small-group rule, k before/after
        self.rule_label.setObjectName("quasi_rule")
        self.rule_label.setWordWrap(True)
        send_layout.addWidget(self.rule_label)
        self.quarantine_label = QLabel("Staying behind until fixed (double-click to open):", send)
        send_layout.addWidget(self.quarantine_label)
        self.quarantine = _table(send, ["Record", "Kind", "Why it stays behind"])
        self.quarantine.setMinimumHeight(160)
        self.quarantine.itemDoubleClicked.connect(self._open_record)
        send_layout.addWidget(self.quarantine)
        layout.addWidget(send)
        layout.addWidget(self._rejected_box(body))

        # online: the VRP's intake, when it runs one
        online = QGroupBox("Send over the internet (when your VRP runs an intake)", body)
        online_form = QFormLayout(online)
        self.intake_edit = QLineEdit(online)
        self.intake_edit.setPlaceholderText("https://… the address your VRP sent")
        self.intake_edit.setAccessibleName("VRP intake address")
        address = QLabel("Intake &address", online)
        address.setBuddy(self.intake_edit)
        intake_row = QHBoxLayout()
        intake_row.addWidget(self.intake_edit, 1)
        self.intake_save = QPushButton("Save address", online)
        self.intake_save.clicked.connect(self.save_intake)
        intake_row.addWidget(self.intake_save)
        online_form.addRow(address, intake_row)
        send_row = QHBoxLayout()
        self.online_label = QLabel(online)
        self.online_label.setWordWrap(True)
        self.send_now_button = Button("Send &now", online)
        self.send_now_button.clicked.connect(self.send_now)
        send_row.addWidget(self.online_label, 1)
        send_row.addWidget(self.send_now_button)
        online_form.addRow(send_row)
        layout.addWidget(online)

        # history and receipts
        history = QGroupBox("Sent batches", body)
        history_layout = QVBoxLayout(history)
        receipt_row = QHBoxLayout()
        receipt_hint = QLabel(
            "When the VRP sends a receipt back, import it to see what was accepted. New "
            "frameworks and population figures come as a VRP pack.",
            history,
        )
        receipt_hint.setWordWrap(True)
        receipt_row.addWidget(receipt_hint, 1)
        self.receipt_button = QPushButton("Import receipt…", history)
        self.receipt_button.clicked.connect(self._choose_receipt)
        receipt_row.addWidget(self.receipt_button)
        self.vrp_pack_button = QPushButton("Import VRP pack…", history)
        self.vrp_pack_button.setObjectName("import_vrp_pack")
        self.vrp_pack_button.clicked.connect(self._choose_vrp_pack)
        receipt_row.addWidget(self.vrp_pack_button)
        history_layout.addLayout(receipt_row)
        self.history = _table(
            history, ["Sent", "Period", "Records", "Status", "Accepted", "Rejected", "File"]
        )
        self.history.setMinimumHeight(140)
        history_layout.addWidget(self.history)
        layout.addWidget(history)
        layout.addStretch(1)

        ctx.data_changed.connect(lambda _entity: self.refresh())
        self.refresh()

    def _rejected_box(self, body: QWidget) -> QGroupBox:
        """Records the VRP rejected, with its reason; sent again as they are when there is
        nothing to fix (the VRP's check was wrong). Hidden while there are none."""
        box = self.rejected_box = QGroupBox("Rejected by the VRP", body)
        box.setObjectName("rejected_box")
        column = QVBoxLayout(box)
        self.rejected_label = QLabel(box)
        self.rejected_label.setWordWrap(True)
        column.addWidget(self.rejected_label)
        self.rejected = _table(box, ["Record", "Kind", "VRP's reason"])
        self.rejected.setObjectName("rejected_table")
        self.rejected.setAccessibleName("Records rejected by the VRP")
        self.rejected.setTabKeyNavigation(False)  # Tab moves on to the buttons
        self.rejected.setMinimumHeight(140)
        self.rejected.itemDoubleClicked.connect(self._open_rejected)
        self.rejected.itemSelectionChanged.connect(self._rejected_selection)
        column.addWidget(self.rejected)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.send_selected_button = Button("Send &selected again", box)
        self.send_selected_button.setObjectName("send_selected_again")
        self.send_selected_button.setToolTip(
            "A new version of the selected records goes in the next batch, checked again first"
        )
        self.send_selected_button.clicked.connect(lambda: self.send_again(self.selected_rejected()))
        self.send_all_button = Button("Send a&ll again", box)
        self.send_all_button.setObjectName("send_all_again")
        self.send_all_button.setToolTip("Every record listed here goes in the next batch")
        self.send_all_button.clicked.connect(lambda: self.send_again(None))
        buttons.addWidget(self.send_selected_button)
        buttons.addWidget(self.send_all_button)
        column.addLayout(buttons)
        box.hide()
        return box

    def _linkage_box(self, body: QWidget) -> QGroupBox:
        """The linkage key: which one pseudonyms are made with, a request for the custodian,
        and importing the pack the custodian sends back (fingerprint compared by phone)."""
        box = QGroupBox("Linkage key (from your partnership's custodian)", body)
        box.setObjectName("linkage_box")
        column = QVBoxLayout(box)
        self.linkage_label = QLabel(box)
        self.linkage_label.setWordWrap(True)
        self.linkage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.linkage_label)
        form = self._linkage_form = QFormLayout()
        request_row = QHBoxLayout()
        self.request_button = QPushButton("Save linkage request…", box)
        self.request_button.clicked.connect(self._choose_request)
        request_row.addWidget(QLabel("Send it to the custodian (through the VRP is fine).", box), 1)
        request_row.addWidget(self.request_button)
        form.addRow("Request", request_row)
        pack_row = QHBoxLayout()
        self.linkage_pack_edit = QLineEdit(box)
        self.linkage_pack_edit.setPlaceholderText("The linkage pack the custodian sent you")
        self.linkage_pack_edit.setAccessibleName("Linkage pack file")
        browse = QPushButton("Choose…", box)
        browse.clicked.connect(self._choose_linkage_pack)
        pack_row.addWidget(self.linkage_pack_edit, 1)
        pack_row.addWidget(browse)
        form.addRow("Linkage pack", pack_row)
        self.custodian_edit = QLineEdit(box)
        self.custodian_edit.setPlaceholderText(
            "The fingerprint the custodian reads to you by phone (first import only)"
        )
        self.custodian_edit.setAccessibleName("Custodian's fingerprint")
        form.addRow("Custodian's fingerprint", self.custodian_edit)
        self.linkage_import_button = QPushButton("Import linkage pack", box)
        self.linkage_import_button.clicked.connect(self.import_linkage)
        form.addRow("", self.linkage_import_button)
        column.addLayout(form)
        return box

    def _show_linkage(self, info: dict[str, Any]) -> None:
        if info.get("from_custodian"):
            text = (
                f"Pseudonyms are made with linkage key generation {info['generation']} from "
                f"{info['custodian_name']} (custodian fingerprint "
                f"{info['custodian_fingerprint']}). The VRP does not hold this key."
            )
        else:
            text = (
                "No linkage key from your custodian yet: pseudonyms use this workspace's own "
                "key, so the VRP cannot tell when another provider works with the same young "
                "person. Save a linkage request and send it to your custodian."
            )
        if info.get("recipient_fingerprint"):
            text += "\nYour linkage fingerprint (read it to the custodian): "
            text += info["recipient_fingerprint"]
        if info.get("rotation_pending"):
            text += (
                f"\n{info['rotation_pending']} pseudonym changes go in the next batch, so the "
                "VRP keeps counting each young person once."
            )
        self.linkage_label.setText(text)
        self.custodian_edit.setVisible(not info.get("from_custodian"))
        label = self._linkage_form.labelForField(self.custodian_edit)
        if label is not None:
            label.setVisible(not info.get("from_custodian"))

    def _choose_request(self) -> None:
        code = self.status.get("provider_code") or "provider"
        path, _ = QFileDialog.getSaveFileName(
            self, "Linkage request", linkage.default_request_name(code),
            "Linkage requests (*.vrplinkreq)",
        )  # fmt: skip
        if path:
            self.save_request(path)

    def save_request(self, path: str) -> None:
        def done(info) -> None:
            self.message.say(
                f"Linkage request saved to {info['file']}. Send it to your custodian and read "
                f"them your linkage fingerprint: {info['recipient_fingerprint']}."
            )

        self.ctx.run_op(
            linkage.write_request, Path(path), changes=("settings",),
            on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def _choose_linkage_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Linkage pack", "", "Linkage packs (*.vrplinkage);;All files (*)"
        )
        if path:
            self.linkage_pack_edit.setText(path)

    def import_linkage(self) -> None:
        pack = self.linkage_pack_edit.text().strip()
        if not pack:
            self.message.say("Choose the linkage pack file first.", problem=True)
            return
        fingerprint = self.custodian_edit.text().strip() or None

        def done(info) -> None:
            self.custodian_edit.clear()
            if info["unchanged"]:
                self.message.say("That linkage key is already in use; nothing changed.")
                return
            self.message.say(
                f"Linkage key generation {info['generation']} from {info['custodian_name']} is "
                f"in use: {info['rekeyed']} pseudonyms changed and the old key was destroyed. "
                "Send a batch next so the VRP keeps counting people once."
            )

        self.ctx.run_op(
            linkage.import_pack, Path(pack), custodian_fingerprint=fingerprint,
            changes=("participant", "settings"), on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    # -- loading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        def load(ws):
            status = onboarding.status(ws)
            online = {
                "url": intake_client.intake_url(ws),
                "waiting": len(intake_client.unanswered(ws)),
            }
            return (
                status,
                batch_build.preview(ws, limit=500),
                outbox.history(ws),
                online,
                linkage.status(ws),
                quasi.assess(ws),
                rejected.list_rejected(ws, limit=500),
            )

        self.ctx.read(load, on_done=self._show, on_error=self.message.fail)

    def _show(self, result) -> None:
        self.status, self.preview, history, online, linked, identifiable, refused = result
        self._show_linkage(linked)
        joined = self.status.get("joined")
        if joined:
            self.vrp_label.setText(
                f"Sending to {self.status['partnership']} as {self.status['provider_code']}.\n"
                f"Your signing fingerprint: {self.status['provider_fingerprint']}\n"
                f"VRP fingerprint: {self.status['vrp_fingerprint']}"
            )
        else:
            self.vrp_label.setText(
                "This workspace has not joined a VRP yet. Your coordinator gives you an "
                "onboarding pack (a file) and reads you a one-time code by phone."
            )
        self.join_form.setVisible(not joined)
        self.linkage_box.setVisible(bool(joined))
        folder = self.preview.get("outbox")
        self.outbox_label.setText(
            folder or "No outbox folder chosen yet (a USB stick or shared drive)."
        )
        total = self.preview.get("pending_total", 0)
        held = self.preview.get("quarantined", 0)
        self.pending_label.setText(
            f"{total} records are ready to go. {held} stay behind until they are fixed.\n"
            f"Identifiability of what the VRP holds from you: "
            f"{quasi.describe(identifiable['after'])}"
            if joined
            else "Join a VRP to send batches."
        )
        again = resend.describe_waiting((self.preview.get("resend") or {}).get("records", 0))
        rule_text = quasi.describe_rule(identifiable) + (f"\n{again}" if again else "")
        self.rule_label.setText(rule_text if joined else "")
        self.rule_label.setVisible(bool(joined))
        self.build_button.setEnabled(bool(joined and folder and total))
        self.receipt_button.setEnabled(bool(joined))
        self._show_online(bool(joined), online, total)
        items = self.preview.get("quarantine", [])
        _fill(
            self.quarantine,
            [
                [q["label"], KIND_LABELS.get(q["entity"], q["entity"]), "; ".join(q["reasons"])]
                for q in items
            ],
            [(q["entity"], q["id"]) for q in items],
        )
        # an empty table says nothing; a sentence says all is well
        self.quarantine.setVisible(bool(items))
        self.quarantine_label.setText(
            "Staying behind until fixed (double-click to open):"
            if items
            else "Nothing stays behind: every saved record can go."
        )
        self._show_rejected(refused)
        _fill(
            self.history,
            [
                [
                    clock.show(b["created_at"]),
                    b["period"],
                    b["records"],
                    b["status"],
                    b["accepted"] if b["accepted"] is not None else "",
                    b["rejected"] if b["rejected"] is not None else "",
                    b["file_name"],
                ]
                for b in history
            ],
        )

    def _show_rejected(self, items: list[dict[str, Any]]) -> None:
        _fill(
            self.rejected,
            [[r["label"], r["kind"], r["reason"]] for r in items],
            [(r["entity"], r["id"], r["opens"]) for r in items],
        )
        self.rejected_box.setVisible(bool(items))
        n = len(items)
        self.rejected_label.setText(
            f"The VRP rejected {'this record' if n == 1 else f'these {n} records'} "
            f"(double-click to open). Fix a record and save it, and it goes again by itself. "
            "If there is nothing to fix (the VRP's check was wrong and has been put right), send "
            "it again as it is: it is checked again first, and goes in the next batch."
        )
        self.send_all_button.setEnabled(bool(items))
        self._rejected_selection()
        if items and self.status.get("joined"):  # the group is below the fold: say so above
            self.pending_label.setText(
                self.pending_label.text()
                + f"\n{n} {'record was' if n == 1 else 'records were'} rejected by the VRP: see "
                "'Rejected by the VRP' below."
            )

    def _rejected_selection(self) -> None:
        self.send_selected_button.setEnabled(bool(self.selected_rejected()))

    def selected_rejected(self) -> list[str]:
        """The ids of the rejected records selected in the table, in table order."""
        rows = sorted({index.row() for index in self.rejected.selectionModel().selectedRows()})
        return [self.rejected.item(r, 0).data(Qt.ItemDataRole.UserRole)[1] for r in rows]

    def send_again(self, ids: list[str] | None):
        """Send the chosen rejected records (None: all of them) again, on the store thread."""
        if ids is not None and not ids:
            self.message.say("Select the records to send again first.", problem=True)
            return None
        which = rejected.ALL if ids is None else ids

        def done(result: dict[str, Any]) -> None:
            self.message.say(rejected.describe(result), problem=bool(result["needing_fix"]))
            # the group may go as the page refreshes: show the answer, at the top of the page
            scroll = self.findChild(QScrollArea)
            if scroll is not None:
                scroll.ensureWidgetVisible(self.message)

        return self.ctx.run_op(
            rejected.send_again, which, changes=("participant", "session"),
            on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def _open_rejected(self, item: QTableWidgetItem) -> None:
        entity, _record_id, opens = self.rejected.item(item.row(), 0).data(Qt.ItemDataRole.UserRole)
        self.ctx.navigate.emit(PAGE_FOR.get(entity, "participants"), opens)

    def _show_online(self, joined: bool, online: dict[str, Any], ready: int) -> None:
        url = online["url"]
        if not self.intake_edit.hasFocus():
            self.intake_edit.setText(url or "")
        if not joined:
            text = "Join a VRP first."
        elif not url:
            text = (
                "No intake address: batches go by the outbox folder. If your VRP runs an "
                "intake, enter its address to send with one press when you are online."
            )
        else:
            text = (
                f"{ready} records ready; {online['waiting']} sent batches wait for the VRP's "
                "receipt. Send now builds a batch of what is ready, uploads it and imports the "
                "receipt. Offline, it stays in the outbox and goes next time."
            )
        self.online_label.setText(text)
        self.intake_edit.setEnabled(joined)
        self.intake_save.setEnabled(joined)
        self.send_now_button.setEnabled(bool(joined and url and (ready or online["waiting"])))

    def save_intake(self) -> None:
        url = self.intake_edit.text().strip() or None
        self.ctx.run_op(
            intake_client.set_intake, url, changes=("batch",),
            on_done=lambda saved: self.message.say(
                f"'Send now' sends to {saved}." if saved else "Intake address cleared."
            ),
            on_error=self.message.fail,
        )  # fmt: skip

    def send_now(self):
        """Build on the store thread, upload on a network thread, accept on the store thread:
        a slow connection never holds the store (other pages keep loading)."""
        cancel = threading.Event()

        def uploaded(planned, items) -> None:
            self.ctx.run_op(
                intake_client.accept, planned, items, changes=("batch",),
                on_done=done, on_error=self.message.fail,
            )  # fmt: skip

        def planned(plan) -> None:
            if not plan.files:
                self.message.say("Nothing to send: every batch has its receipt.")
                return
            # the network phase changes nothing in the store: no changes to report
            dialog = run_with_progress(
                self, self.network, "Sending to the VRP", intake_client.upload_all, plan,
                cancel=cancel, on_done=lambda items: uploaded(plan, items),
                on_error=self.message.fail,
            )  # fmt: skip
            dialog.canceled.connect(cancel.set)
            self.send_dialog = dialog

        def done(results) -> None:
            problem = any(r.outcome != "receipted" for r in results)
            self.message.say(" ".join(r.message for r in results), problem=problem)

        return self.ctx.run_with_progress(
            self, "Preparing the batch", intake_client.plan, changes=("batch",),
            on_done=planned, on_error=self.message.fail,
        )  # fmt: skip

    # -- actions ------------------------------------------------------------------------------
    def _choose_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Onboarding pack", "", "Onboarding packs (*.vrponboard);;All files (*)"
        )
        if path:
            self.pack_edit.setText(path)

    def join(self) -> None:
        pack, code = self.pack_edit.text().strip(), self.code_edit.text().strip()
        if not pack or not code:
            self.message.say("Choose the pack file and type the one-time code.", problem=True)
            return

        def done(info) -> None:
            self.code_edit.clear()
            self.message.say(
                f"Joined {info['partnership']} as {info['provider_code']}. Read your fingerprint "
                f"{info['provider_fingerprint']} to your coordinator, and send them the key "
                f"file {info['key_file']}."
            )
            self.ctx.read(interventions.framework_choices, on_done=self._offer)

        self.ctx.run_op(
            onboarding.join, Path(pack), code, changes=("participant", "settings"),
            on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def _offer(self, choices: list[dict[str, Any]]) -> None:
        """Offer to set up interventions under the frameworks that have none yet."""
        unused = [c for c in choices if not c["in_use"]]
        if not unused:
            self.offer_box.hide()
            return
        self.offer_framework.set_entries([(c["id"], c["name"]) for c in unused], blank=None)
        self.offer_text.setText(
            "Your VRP's frameworks are here. Set up the interventions you run under them, so "
            "sessions can be logged against them."
        )
        self.offer_box.show()

    def set_up_intervention(self):
        """Open the intervention dialog with the offered framework chosen."""
        from ui.forms.intervention_form import InterventionDialog

        self.offer_dialog = InterventionDialog(
            self.ctx, self, framework_id=self.offer_framework.code()
        )
        self.offer_dialog.accepted.connect(self._set_up)
        self.offer_dialog.open()
        return self.offer_dialog

    def _set_up(self) -> None:
        row = self.offer_dialog.saved if self.offer_dialog else None
        if row:
            self.message.say(f"{row['name']} is set up: log its sessions on the Sessions page.")
        self.ctx.read(interventions.framework_choices, on_done=self._offer)

    def _choose_outbox(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Outbox folder")
        if folder:
            self.set_outbox(folder)

    def set_outbox(self, folder: str) -> None:
        self.ctx.runner.submit(
            outbox.set_outbox_folder, self.ctx.ws, Path(folder),
            on_done=lambda _f: self.refresh(), on_error=self.message.fail,
        )  # fmt: skip

    def build_batch(self):
        def done(result) -> None:
            self.last_built = result
            counts = ", ".join(
                f"{n} {k.replace('_', ' ')}" for k, n in result["counts"].items() if n
            )
            text = f"Batch written to {result['file']} ({counts})."
            if result.get("disclosure"):
                text += " " + quasi.describe_batch(result["disclosure"])
            self.message.say(text)

        def failed(exc: BaseException) -> None:
            self.message.fail(exc)
            self.refresh()

        return self.ctx.run_with_progress(
            self, "Building the batch", batch_build.build_batch,
            changes=("batch",), on_done=done, on_error=failed,
        )  # fmt: skip

    def _choose_receipt(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Receipt from the VRP", "", "Receipts (*.vrpreceipt);;All files (*)"
        )
        if path:
            self.import_receipt(path)

    def import_receipt(self, path: str):
        def done(result) -> None:
            rejected = result["rejected"]
            text = f"Receipt imported: {result['accepted']} records accepted"
            if rejected:
                text += f", {len(rejected)} rejected - each shows the VRP's reason; fix and resend."
            self.message.say(text + ".")

        return self.ctx.run_with_progress(
            self, "Importing the receipt", receipts.import_receipt,
            Path(path), changes=("batch",), on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def _choose_vrp_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Framework pack or population figures from the VRP",
            "",
            "VRP packs (*.vrpframeworks *.vrpref *.json);;All files (*)",
        )
        if path:
            self.import_vrp_pack(path)

    def import_vrp_pack(self, path: str):
        """Install a framework pack or population figures (the file says which)."""
        return self.ctx.run_op(
            vrp_packs.import_pack, Path(path), changes=("settings", "intervention"),
            on_done=lambda info: self.message.say(info["text"]), on_error=self.message.fail,
        )  # fmt: skip

    def _open_record(self, item: QTableWidgetItem) -> None:
        first = self.quarantine.item(item.row(), 0)
        entity, record_id = first.data(Qt.ItemDataRole.UserRole)
        page = PAGE_FOR.get(entity, "participants")
        self.ctx.navigate.emit(page, record_id if entity != "enrolment" else "")
