"""The coordinator's Inbox page: providers (onboarding and key pinning with fingerprints),
batches by provider with counts and errors, imports from files or the inbox folder with a
dry-run preview, and the conflicts kept for review.

Store work goes through ``ctx.runner``; imports run with progress and Cancel. Results and
problems appear in the page's message bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.context import AppContext
from ui.pages.sync import _fill, _table, scrolling_page
from vrp_desktop import clock
from vrp_desktop.reference import population
from vrp_desktop.returns.quarters import display_period
from vrp_desktop.sync import batch_import, coordinator, linkage_overview, onboarding


class InboxPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.batches: list[dict[str, Any]] = []
        self.pending_key: dict[str, Any] | None = None
        self.last_reports: list = []
        self.linkage_info: dict[str, Any] = {}

        body, layout, self.message = scrolling_page(self, "Inbox")
        self.vrp_label = QLabel(body)
        self.vrp_label.setWordWrap(True)
        self.vrp_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.vrp_label)
        self.linkage_label = QLabel(body)  # the linkage key as batches show it (issue 12)
        self.linkage_label.setObjectName("inbox_linkage")
        self.linkage_label.setWordWrap(True)
        self.linkage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.linkage_label)

        # importing
        imports = QGroupBox("Import batches", body)
        im = QVBoxLayout(imports)
        folder_row = QHBoxLayout()
        self.inbox_label = QLabel(imports)
        self.inbox_label.setWordWrap(True)
        choose = QPushButton("Choose inbox folder…", imports)
        choose.clicked.connect(self._choose_inbox)
        folder_row.addWidget(self.inbox_label, 1)
        folder_row.addWidget(choose)
        im.addLayout(folder_row)
        buttons = QHBoxLayout()
        self.dry_run = QCheckBox("Dry run (show what would happen, change nothing)", imports)
        self.inbox_button = QPushButton("Import new files from the inbox", imports)
        self.inbox_button.clicked.connect(self.import_inbox)
        files = QPushButton("Import files…", imports)
        files.clicked.connect(self._choose_files)
        buttons.addWidget(self.dry_run)
        buttons.addStretch(1)
        buttons.addWidget(files)
        buttons.addWidget(self.inbox_button)
        im.addLayout(buttons)
        layout.addWidget(imports)

        # batches and their errors
        batches = QGroupBox("Batches by provider (select one to see its rejected records)", body)
        bl = QVBoxLayout(batches)
        self.batch_table = _table(
            batches,
            ["Provider", "Imported", "Period", "Records", "Accepted", "Rejected", "Conflicts",
             "Notes"],
        )  # fmt: skip
        self.batch_table.setMinimumHeight(150)
        self.batch_table.itemSelectionChanged.connect(self._show_errors)
        bl.addWidget(self.batch_table)
        self.error_table = _table(batches, ["Kind", "Record", "Outcome", "Reason"])
        self.error_table.setMinimumHeight(120)
        bl.addWidget(self.error_table)
        layout.addWidget(batches)

        conflicts = QGroupBox("Conflicts kept for review", body)
        cl = QVBoxLayout(conflicts)
        self.conflict_table = _table(
            conflicts, ["Provider", "Kind", "Record", "Held", "Offered", "What happened"]
        )
        self.conflict_table.setMinimumHeight(100)
        cl.addWidget(self.conflict_table)
        layout.addWidget(conflicts)

        waiting = QGroupBox("Records waiting for one they refer to", body)
        wl = QVBoxLayout(waiting)
        self.pending_note = QLabel(waiting)
        self.pending_note.setWordWrap(True)
        wl.addWidget(self.pending_note)
        self.pending_table = _table(
            waiting, ["Provider", "Kind", "Record", "Version", "Waits for", "Since"]
        )
        self.pending_table.setMinimumHeight(100)
        wl.addWidget(self.pending_table)
        layout.addWidget(waiting)

        # the provider registry
        registry = QGroupBox("Providers", body)
        rl = QVBoxLayout(registry)
        self.provider_table = _table(registry, ["Code", "Name", "Signing key", "Batches"])
        self.provider_table.setMinimumHeight(120)
        rl.addWidget(self.provider_table)
        add = QWidget(registry)
        form = QFormLayout(add)
        self.code_edit = QLineEdit(add)
        self.code_edit.setPlaceholderText("e.g. P014")
        self.name_edit = QLineEdit(add)
        self.name_edit.setPlaceholderText("The organisation's name")
        form.addRow("Provider code", self.code_edit)
        form.addRow("Name", self.name_edit)
        add_row = QHBoxLayout()
        self.add_button = QPushButton("Add provider and save their onboarding pack…", add)
        self.add_button.clicked.connect(self._choose_pack_target)
        pin = QPushButton("Pin a provider key file…", add)
        pin.clicked.connect(self._choose_key_file)
        add_row.addWidget(self.add_button)
        add_row.addWidget(pin)
        add_row.addStretch(1)
        form.addRow("", add_row)
        rl.addWidget(add)
        self.pin_panel = QWidget(registry)
        pp = QHBoxLayout(self.pin_panel)
        self.pin_label = QLabel(self.pin_panel)
        self.pin_label.setWordWrap(True)
        self.pin_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pin_button = QPushButton("They read the same fingerprint: pin it", self.pin_panel)
        self.pin_button.clicked.connect(self.confirm_pin)
        cancel = QPushButton("Don't pin", self.pin_panel)
        cancel.clicked.connect(self._cancel_pin)
        pp.addWidget(self.pin_label, 1)
        pp.addWidget(self.pin_button)
        pp.addWidget(cancel)
        self.pin_panel.hide()
        rl.addWidget(self.pin_panel)
        layout.addWidget(registry)
        layout.addWidget(self._population_box(body))
        layout.addStretch(1)

        ctx.data_changed.connect(lambda _entity: self.refresh())
        self.refresh()

    def _population_box(self, body: QWidget) -> QGroupBox:
        """Publishing the population figures evaluations compare reach with."""
        box = QGroupBox("Population figures for evaluations", body)
        form = QFormLayout(box)
        self.population_label = QLabel(box)
        self.population_label.setWordWrap(True)
        form.addRow(self.population_label)
        self.population_title = QLineEdit(box)
        self.population_title.setPlaceholderText("e.g. Residents aged 10-24, 2021")
        self.population_source = QLineEdit(box)
        self.population_source.setPlaceholderText("e.g. ONS Census 2021, tables TS021 and TS007")
        self.population_base = QLineEdit(box)
        self.population_base.setPlaceholderText("e.g. Residents aged 10-24 in the partnership area")
        form.addRow("Title", self.population_title)
        form.addRow("Source", self.population_source)
        form.addRow("Who is counted", self.population_base)
        self.population_button = QPushButton("Publish from a CSV file…", box)
        self.population_button.setToolTip(
            "A CSV with the header dimension,category,population, one row per group "
            "(dimensions: ethnic_group, ethnicity, gender, age_band, area)."
        )
        self.population_button.clicked.connect(self._choose_population_csv)
        row = QHBoxLayout()
        row.addWidget(self.population_button)
        row.addStretch(1)
        form.addRow("", row)
        return box

    def _show_population(self, pack) -> None:
        if pack is None:
            self.population_label.setText(
                "None published yet. Give a CSV of population by group (dimension,category,"
                "population); providers install the pack it writes with Sync → Import VRP pack."
            )
        else:
            self.population_label.setText(
                f"Published: {pack.title}, version {pack.version} ({pack.source}). Who is "
                f"counted: {pack.base}."
            )

    def _choose_population_csv(self) -> None:
        source, _ = QFileDialog.getOpenFileName(
            self, "Population figures (CSV)", "", "CSV files (*.csv);;All files (*)"
        )
        if not source:
            return
        out, _ = QFileDialog.getSaveFileName(
            self, "Save the population pack for providers", "population.vrpref"
        )
        if out:
            self.publish_population(source, out)

    def publish_population(self, source: str, out: str):
        def done(info) -> None:
            self.message.say(
                f"Population figures version {info['version']} published to {info['file']}. "
                "Send the file to every provider; they import it on their Sync page."
            )

        return self.ctx.run_op(
            population.publish, Path(source), Path(out),
            title=self.population_title.text(), source=self.population_source.text(),
            base=self.population_base.text(), changes=("settings",),
            on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    # -- loading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.read(
            population.installed, on_done=self._show_population, on_error=self.message.fail
        )

        def load(ws):
            return (
                coordinator.summary(ws) if coordinator.is_set_up(ws) else coordinator.setup(ws),
                str(batch_import.inbox_folder(ws) or ""),
                batch_import.list_batches(ws),
                batch_import.list_conflicts(ws),
                coordinator.list_providers(ws),
                batch_import.list_pending(ws),
            )

        self.ctx.runner.submit(load, self.ctx.ws, on_done=self._show, on_error=self.message.fail)
        self.ctx.read(
            linkage_overview.overview, on_done=self._show_linkage, on_error=self.message.fail
        )

    def _show_linkage(self, info: dict[str, Any]) -> None:
        self.linkage_info = info
        self.linkage_label.setText(linkage_overview.describe(info))

    def _show(self, result) -> None:
        summary, inbox, self.batches, conflicts, providers, pending = result
        self.vrp_label.setText(
            f"{summary['partnership']} - VRP public key {summary['recipients'][0]}\n"
            f"VRP signing fingerprint (providers compare it when they join): "
            f"{summary['signing_fingerprint']}"
        )
        self.inbox_label.setText(inbox or "No inbox folder chosen yet.")
        self.inbox_button.setEnabled(bool(inbox))
        _fill(
            self.batch_table,
            [
                [
                    b["provider_code"], clock.show(b["imported_at"]), display_period(b["period"]),
                    b["records"], b["counts"].get("accepted", 0), b["counts"].get("rejected", 0),
                    b["counts"].get("conflicts", 0), " ".join(b["notes"]),
                ]
                for b in self.batches
            ],
            [b["id"] for b in self.batches],
        )  # fmt: skip
        _fill(
            self.conflict_table,
            [
                [c["provider_code"], c["entity"], c["record_id"], c["held_version"],
                 c["offered_version"], c["detail"]]
                for c in conflicts
            ],
        )  # fmt: skip
        self.pending_note.setText(
            f"{len(pending)} record(s) arrived before a record they refer to (for example a "
            "session before its intervention). They are kept, not rejected, and applied by "
            "themselves when the batch carrying what they wait for is imported."
            if pending
            else "Nothing is waiting: every imported record has what it refers to."
        )
        _fill(
            self.pending_table,
            [
                [w["provider_code"], w["entity"], w["record_id"], w["version"],
                 w["waiting_for"], clock.show(w["since"])]
                for w in pending
            ],
        )  # fmt: skip
        _fill(
            self.provider_table,
            [
                [
                    p["code"], p["name"],
                    f"pinned - {p['fingerprint']}" if p["pinned"] else "waiting for their key file",
                    p["batches"],
                ]
                for p in providers
            ],
        )  # fmt: skip

    def _show_errors(self) -> None:
        rows = self.batch_table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.batch_table.item(rows[0].row(), 0)
        batch_id = item.data(Qt.ItemDataRole.UserRole)
        self.ctx.runner.submit(
            batch_import.batch_errors, self.ctx.ws, batch_id,
            on_done=lambda errors: _fill(
                self.error_table,
                [[e["entity"], e["id"], e["outcome"], e["reason"]] for e in errors],
            ),
            on_error=self.message.fail,
        )  # fmt: skip

    # -- importing ----------------------------------------------------------------------------
    def _choose_inbox(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Inbox folder")
        if folder:
            self.ctx.runner.submit(
                batch_import.set_inbox_folder, self.ctx.ws, Path(folder),
                on_done=lambda _f: self.refresh(), on_error=self.message.fail,
            )  # fmt: skip

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Batch files", "", "Batches (*.vrpbatch);;All files (*)"
        )
        if paths:
            self.import_files(paths)

    def _reported(self, reports) -> None:
        self.last_reports = reports
        if not reports:
            self.message.say("No new batch files in the inbox.")
            return
        lines = [r.summary() for r in reports]
        lines += [f"  {n}" for r in reports for n in r.notes]
        lines += [f"  Receipt written: {r.receipt}" for r in reports if r.receipt]
        self.message.say("\n".join(lines), problem=any(r.error for r in reports))

    def import_files(self, paths: list[str]):
        return self.ctx.run_with_progress(
            self, "Importing batches", batch_import.import_files,
            [Path(p) for p in paths], dry_run=self.dry_run.isChecked(), changes=("batch",),
            on_done=self._reported, on_error=self.message.fail,
        )  # fmt: skip

    def import_inbox(self):
        return self.ctx.run_with_progress(
            self, "Importing the inbox", batch_import.import_inbox,
            dry_run=self.dry_run.isChecked(), changes=("batch",),
            on_done=self._reported, on_error=self.message.fail,
        )  # fmt: skip

    # -- onboarding ---------------------------------------------------------------------------
    def _choose_pack_target(self) -> None:
        code = self.code_edit.text().strip().upper()
        suggested = coordinator.default_pack_name(code or "PROVIDER")
        path, _ = QFileDialog.getSaveFileName(self, "Save onboarding pack", suggested)
        if path:
            self.add_provider(path)

    def add_provider(self, path: str) -> None:
        def done(info) -> None:
            self.code_edit.clear()
            self.name_edit.clear()
            self.message.say(
                f"Onboarding pack for {info['code']} saved to {info['pack']}.\n"
                f"ONE-TIME CODE: {info['one_time_code']}\n"
                "Read it to their manager by phone (never send it with the pack). It is shown "
                "only now."
            )
            self.refresh()

        self.ctx.runner.submit(
            coordinator.add_provider, self.ctx.ws, code=self.code_edit.text(),
            name=self.name_edit.text(), out=Path(path), on_done=done, on_error=self.message.fail,
        )  # fmt: skip

    def _choose_key_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Provider key file", "", "Provider key files (*.vrpkey);;All files (*)"
        )
        if path:
            self.load_key_file(path)

    def load_key_file(self, path: str) -> None:
        try:
            body = onboarding.read_key_file(Path(path))
        except Exception as exc:  # a VrpError with a message written for people
            self.message.fail(exc)
            return
        self.pending_key = {"path": path, "fingerprint": body.get("fingerprint", "")}
        self.pin_label.setText(
            f"Key file from {body.get('provider_code')}. Ask their manager to read out the "
            f"fingerprint VRP Desktop showed them. It must be exactly:\n"
            f"{self.pending_key['fingerprint']}"
        )
        self.pin_panel.show()

    def _cancel_pin(self) -> None:
        self.pending_key = None
        self.pin_panel.hide()

    def confirm_pin(self) -> None:
        if self.pending_key is None:
            return
        key = self.pending_key

        def done(info) -> None:
            self._cancel_pin()
            self.message.say(f"Pinned {info['code']}'s key ({info['fingerprint']}).")
            self.refresh()

        self.ctx.runner.submit(
            coordinator.pin_provider, self.ctx.ws, Path(key["path"]),
            expect_fingerprint=key["fingerprint"], on_done=done, on_error=self.message.fail,
        )  # fmt: skip
