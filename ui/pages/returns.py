"""Returns: preview and save the quarterly return, export records, and bring in a register
from a spreadsheet (checked first, bad rows shown, then imported in one step).

All store work runs on the store runner; long jobs show progress with Cancel.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.context import AppContext
from ui.errors import message_for
from ui.forms.keyboard import Button
from ui.pages.import_dialog import BadRowsDialog
from ui.progress import run_with_progress
from ui.worker import Cancelled
from vrp_desktop import roles
from vrp_desktop.returns import report, workbook
from vrp_desktop.returns.export import export_records
from vrp_desktop.returns.quarters import Quarter, last_complete
from vrp_desktop.spreadsheets.importer import ImportReport, import_xlsx, imported_summary
from vrp_desktop.spreadsheets.template import write_workspace_template


def _display(value: Any, fmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        if "%" in fmt:
            return f"{value:.1%}"
        if "0.00" in fmt:
            return f"{value:+.2f}" if "+" in fmt else f"{value:.2f}"
        if "0.0" in fmt:
            return f"{value:,.1f}"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


class SheetPreview(QTableWidget):
    """One sheet of the return as a read-only table (small: a return is a few hundred rows)."""

    def __init__(self, sheet: report.SheetData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        width = max([len(sheet.header or []), *(len(r.values) for r in sheet.rows)], default=0)
        self.setColumnCount(width)
        self.setRowCount(len(sheet.rows))
        self.setHorizontalHeaderLabels(sheet.header or ["", ""] + [""] * (width - 2))
        for i, row in enumerate(sheet.rows):
            for j, value in enumerate(row.values):
                item = QTableWidgetItem(_display(value, row.format_of(j)))
                if isinstance(value, (int, float)) or (
                    isinstance(value, str) and j >= sheet.label_columns and sheet.header
                ):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if row.kind in ("total", "section"):
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(i, j, item)
        self.resizeColumnsToContents()
        header = self.horizontalHeader()
        for j in range(width):
            header.resizeSection(j, min(header.sectionSize(j), 240))
        if not sheet.header:  # a sheet of label and value (the cover): no empty header row
            header.hide()
            header.setStretchLastSection(True)
        if sheet.name == "Notes" and width > 1:
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        # a long value wraps in its row rather than being cut to "…" (seen on the cover)
        self.setWordWrap(True)
        self.resizeRowsToContents()

    def resizeEvent(self, event) -> None:
        """Rows are measured again when a stretched column changes width (a return is small)."""
        super().resizeEvent(event)
        self.resizeRowsToContents()


class ReturnsPage(QWidget):
    """Quarterly return (preview, save), record export, and spreadsheet import."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: report.ReturnData | None = None
        self.last_import: ImportReport | None = None
        self.dialog: BadRowsDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(10)
        partnership = ctx.ws.kind == "coordinator"
        title = QLabel("Partnership return" if partnership else "Quarterly return", self)
        title.setProperty("role", "page-title")
        layout.addWidget(title)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Quarter", self))
        self.quarter = QComboBox(self)
        self.quarter.setAccessibleName("Quarter")
        q = last_complete()
        for _ in range(8):
            self.quarter.addItem(f"{q.label}  ({q.months})", q)
            q = q.previous()
        controls.addWidget(self.quarter)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Hide counts of people below", self))
        self.threshold = QSpinBox(self)
        self.threshold.setRange(1, 100)
        self.threshold.setValue(5)
        self.threshold.setAccessibleName("Suppression threshold")
        self.threshold.setToolTip("5: counts of 1 to 4 are shown as <5. 1 hides nothing.")
        controls.addWidget(self.threshold)
        self.preview_button = Button("&Preview", self)
        self.save_button = QPushButton("Save as…", self)
        self.save_button.setEnabled(False)
        controls.addWidget(self.preview_button)
        controls.addWidget(self.save_button)
        controls.addStretch(1)
        layout.addLayout(controls)

        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)

        tools = QGroupBox("Records and spreadsheets", self)
        row = QHBoxLayout(tools)
        self.export_button = QPushButton("Export records…", tools)
        self.with_ids = QCheckBox("Include names and contact details", tools)
        allowed = roles.can(ctx.ws.user.role, "export_ids")
        self.with_ids.setEnabled(allowed)
        if not allowed:
            self.with_ids.setToolTip("Only a provider manager may export identifying fields.")
        self.template_button = QPushButton("Download import template…", tools)
        self.import_button = QPushButton("Import a spreadsheet…", tools)
        for widget in (self.export_button, self.with_ids):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.template_button)
        row.addWidget(self.import_button)
        layout.addWidget(tools)
        can_export = roles.can(ctx.ws.user.role, "export_return")
        for widget in (self.preview_button, self.export_button):
            widget.setEnabled(can_export)
        if not can_export:
            self.status.setText("Your role cannot export returns; ask a provider manager.")

        self.preview_button.clicked.connect(self.preview)
        self.save_button.clicked.connect(self._choose_save)
        self.export_button.clicked.connect(self._choose_export)
        self.template_button.clicked.connect(self._choose_template)
        self.import_button.clicked.connect(self._choose_import)
        self.quarter.currentIndexChanged.connect(self._stale)
        self.threshold.valueChanged.connect(self._stale)
        if can_export:  # nothing is worked out until the person asks: a return takes a while
            self.status.setText(
                "Choose a quarter and press Preview to work out the return (it can take a while "
                "for a large workspace; you can cancel)."
            )

    # -- the return ---------------------------------------------------------------------
    def selected_quarter(self) -> Quarter:
        return self.quarter.currentData()

    def _stale(self) -> None:
        self.save_button.setEnabled(False)
        self.status.setText("Press Preview to see the return for these settings.")

    def preview(self) -> None:
        self.preview_button.setEnabled(False)
        self.status.setText(f"Working out the figures for {self.selected_quarter().label}…")
        run_with_progress(
            self,
            self.ctx.runner,
            "Working out the return",
            report.build,
            self.ctx.ws,
            self.selected_quarter(),
            threshold=self.threshold.value(),
            on_done=self._show,
            on_error=self._failed,
        )

    def _show(self, data: report.ReturnData) -> None:
        self.data = data
        self.preview_button.setEnabled(True)
        current = self.tabs.currentIndex()
        self.tabs.clear()
        for sheet in data.sheets:
            self.tabs.addTab(SheetPreview(sheet, self.tabs), sheet.name)
        self.tabs.setCurrentIndex(max(current, 0))
        self.save_button.setEnabled(True)
        self.status.setText(
            f"{data.title}: preview ready. Small numbers are hidden as they will be in the file."
        )

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.status.setText("Stopped. Nothing was saved.")
            return
        self.status.setText(message_for(exc))

    def _choose_save(self) -> None:
        q = self.selected_quarter()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the return",
            f"return-{q.label.replace(' ', '-')}.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        self.status.setText(f"Saving {path.name}…")
        run_with_progress(
            self,
            self.ctx.runner,
            "Saving the return",
            workbook.export_return,
            self.ctx.ws,
            self.selected_quarter(),
            path,
            threshold=self.threshold.value(),
            on_done=lambda result: self.status.setText(f"Saved {result[1]}."),
            on_error=self._failed,
        )

    # -- records and spreadsheets ---------------------------------------------------------
    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export records", "records.xlsx", "Excel workbook (*.xlsx)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        with_ids = self.with_ids.isChecked()
        run_with_progress(
            self,
            self.ctx.runner,
            "Exporting records",
            export_records,
            self.ctx.ws,
            path,
            with_identifiers=with_ids,
            on_done=lambda counts: self.status.setText(
                f"Exported {sum(counts.values()):,} rows to {path}."
                + (" It identifies young people: keep it safe." if with_ids else "")
            ),
            on_error=self._failed,
        )

    def _choose_template(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the import template",
            "vrp-import-template.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if path:
            self.save_template(Path(path))

    def save_template(self, path: Path) -> None:
        self.ctx.runner.submit(
            write_workspace_template,
            self.ctx.ws,
            path,
            on_done=lambda p: self.status.setText(
                f"Template saved as {p}. Fill in its Register sheet (and Sessions, Attendance "
                "and Questionnaires if you have them), then import it here."
            ),
            on_error=self._failed,
        )

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import a spreadsheet",
            "",
            "Spreadsheets (*.xlsx *.ods *.xls *.csv);;All files (*)",
        )
        if path:
            self.check_import(Path(path))

    def check_import(self, path: Path) -> None:
        """A dry run first: show what would happen and every bad row, then ask."""
        self.status.setText(f"Checking {path.name}…")
        run_with_progress(
            self,
            self.ctx.runner,
            "Checking the spreadsheet",
            import_xlsx,
            self.ctx.ws,
            path,
            dry_run=True,
            on_done=lambda result: self._checked(path, result),
            on_error=self._failed,
        )

    def _checked(self, path: Path, result: ImportReport) -> None:
        self.last_import = result
        self.status.setText(f"{path.name}: {result.summary()}; {len(result.bad):,} with problems.")
        self.dialog = BadRowsDialog(result, self)
        self.dialog.accepted.connect(lambda: self.run_import(path))
        self.dialog.open()

    def run_import(self, path: Path) -> None:
        self.ctx.run_with_progress(
            self,
            "Importing",
            import_xlsx,
            path,
            changes=("participant", "enrolment", "session"),
            on_done=self._imported,
            on_error=self._failed,
        )

    def _imported(self, result: ImportReport) -> None:
        self.last_import = result
        self.status.setText(
            imported_summary(result.imported)
            + (
                " 1 row with problems was not imported."
                if len(result.bad) == 1
                else f" {len(result.bad):,} rows with problems were not imported."
            )
        )
