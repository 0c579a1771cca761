"""What checking a spreadsheet found, before anything is imported: a preview of every change
(new records, updates with what they change, rows that change nothing) and every row with
problems, each with all its reasons; then the choice to import the good rows."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vrp_desktop.spreadsheets.importer import ImportReport

#: rows the preview shows at once; the rest are counted (the errors copy holds every problem)
PREVIEW_ROWS = 2000


def _table(parent: QWidget, headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    for j in range(len(headers) - 1):
        header.setSectionResizeMode(j, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(True)
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(text))
    return table


class ImportCheckDialog(QDialog):
    """The preview and the problems of a dry run, with Import for the good rows."""

    def __init__(self, result: ImportReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check the spreadsheet")
        self.resize(900, 520)
        layout = QVBoxLayout(self)
        sheets = ", ".join([f"'{result.sheet}'", *(f"'{s}'" for s in result.other_sheets.values())])
        summary = f"Read {result.rows_read:,} rows from {sheets}: {result.summary()}; " + (
            "1 row has problems and will not be imported."
            if len(result.bad) == 1
            else f"{len(result.bad):,} rows have problems and will not be imported."
        )
        if result.date_order != "day/month/year":
            summary += f" Dates typed as text were read as {result.date_order}."
        if result.ignored_columns:
            summary += " Ignored columns: " + ", ".join(result.ignored_columns) + "."
        label = QLabel(summary, self)
        label.setWordWrap(True)
        layout.addWidget(label)

        self.tabs = QTabWidget(self)
        changes = [c for c in result.changes if c.action != "unchanged"][:PREVIEW_ROWS]
        self.preview = _table(
            self,
            ["Sheet", "Row", "What happens", "Changes"],
            [
                [
                    c.sheet,
                    str(c.row),
                    c.what,
                    "\n".join(f"{h}: {a} → {b}" for h, a, b in c.fields),
                ]
                for c in changes
            ],
        )
        self.tabs.addTab(self.preview, f"What will change ({len(changes):,})")
        self.table = _table(
            self,
            ["Sheet", "Row", "Problems"],
            [
                [b.kind or "Register", str(b.row), "\n".join(b.reasons)]
                for b in result.bad[:PREVIEW_ROWS]
            ],
        )
        self.tabs.addTab(self.table, f"Problems ({len(result.bad):,})")
        if result.bad and not changes:
            self.tabs.setCurrentWidget(self.table)
        layout.addWidget(self.tabs, 1)
        if result.errors_copy:
            note = QLabel(
                f"A copy of the sheet with an Errors column is saved as {result.errors_copy}. "
                "Fix those rows there and import that file again later.",
                self,
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        buttons = QDialogButtonBox(self)
        good = result.good_rows - result.count("unchanged")
        self.import_button = buttons.addButton(
            f"Import {good:,} good rows", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(good > 0)
        buttons.addButton("Don't import", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.tabs.currentChanged.connect(lambda _: self._fit_rows())

    def _fit_rows(self) -> None:
        """Row heights for the wrapped text at the table's real width (known once shown)."""
        for table in (self.preview, self.table):
            table.resizeRowsToContents()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_rows()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()


#: the name the Returns page and its tests have used
BadRowsDialog = ImportCheckDialog
