"""The participant register: find a young person by typing, filter, open, act.

Typing searches after a short pause (150 ms) over names, reference and postcode district; Down
moves into the list and Enter opens the person. The list is a lazy model, so it stays quick with
100k people.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.errors import show_error
from ui.forms.fields import CodeCombo
from ui.forms.keyboard import Button
from ui.forms.participant_form import ParticipantDialog
from ui.models.participants_model import (
    COL_NAME,
    COL_POSTCODE,
    COL_REFERENCE,
    ParticipantsModel,
    RecordIdRole,
)
from ui.pages.participant_detail import ParticipantDetail
from vrp_desktop import codes
from vrp_desktop.services import interventions, participants

SEARCH_DELAY_MS = 150
STATUSES = {
    "all": "Everyone",
    "active": "Active (on an intervention)",
    "exited": "Exited",
    "attention": "Needs attention",
}


class ParticipantsPage(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog = None

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, reference or postcode district…")
        self.search.setAccessibleName("Search participants")
        self.search.setClearButtonEnabled(True)
        self.intervention = CodeCombo({}, blank="All interventions")
        self.intervention.setAccessibleName("Filter by intervention")
        self.status = CodeCombo(STATUSES, blank=None)
        self.status.setAccessibleName("Filter by status")
        self.age_band = CodeCombo({b: b for b in codes.AGE_BANDS}, blank="All ages")
        self.age_band.setAccessibleName("Filter by age band")
        self.new_button = Button("&New participant")
        self.new_button.setToolTip("Add a young person (Ctrl+N)")
        self.count = QLabel()

        top = QHBoxLayout()
        top.addWidget(self.search, 3)
        top.addWidget(self.new_button)
        filters = QHBoxLayout()
        for w in (self.intervention, self.status, self.age_band):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.count)

        self.model = ParticipantsModel(ctx, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Participants")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.list_stack, 1)

        self.detail = ParticipantDetail(ctx)
        self.placeholder = QLabel("Choose someone from the list to see their record.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_stack = QStackedWidget()
        self.detail_stack.addWidget(self.placeholder)
        self.detail_stack.addWidget(self.detail)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.detail_stack)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 4)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(self._timer.start)
        self.search.textChanged.connect(self._read_ahead)  # the read overlaps the pause
        self.search.returnPressed.connect(self._open_first)
        self.search.installEventFilter(self)
        for combo in (self.intervention, self.status, self.age_band):
            combo.currentIndexChanged.connect(self.run_search)
        self.table.activated.connect(self._open_index)
        self.table.selectionModel().currentRowChanged.connect(self._open_index)
        self.new_button.clicked.connect(self.new_participant)
        self.detail.changed.connect(self._detail_changed)
        QShortcut(
            QKeySequence.StandardKey.New,
            self,
            self.new_participant,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence.StandardKey.Find,
            self,
            self.focus_search,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self.setTabOrder(self.search, self.new_button)
        self.setTabOrder(self.new_button, self.intervention)
        self.setTabOrder(self.intervention, self.status)
        self.setTabOrder(self.status, self.age_band)
        self.setTabOrder(self.age_band, self.table)

        self._stale = False
        self.model.refreshed.connect(self._show_results)
        self.model.counted.connect(self._show_count)
        ctx.data_changed.connect(self._data_changed)
        self.reload_interventions()
        self.run_search()

    def _data_changed(self, entity: str) -> None:
        """Another page saved something: refresh when this page is next shown."""
        if entity in ("participant", "enrolment", "session", "outcome_response", "erase"):
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.run_search()

    # -- searching -----------------------------------------------------------------------
    def reload_interventions(self) -> None:
        self.ctx.read(interventions.list_interventions, on_done=self._show_interventions)

    def _show_interventions(self, rows: list[dict]) -> None:
        self.intervention.set_entries(
            [(i["id"], i["name"]) for i in rows], blank="All interventions"
        )

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _filters(self) -> dict:
        return {
            "intervention_id": self.intervention.code(),
            "status": self.status.code() or "all",
            "age_band": self.age_band.code(),
        }

    def run_search(self) -> None:
        self._timer.stop()
        self.model.set_query(self.search.text(), **self._filters())

    def _read_ahead(self, text: str) -> None:
        """Read this text's first page while the pause runs: it paints when the pause ends."""
        self.model.read_ahead(text, **self._filters())

    def _show_results(self) -> None:
        """The new query's first page is in: the count and the empty state follow it."""
        text = self.search.text()
        total = self.model.total
        self._show_count()
        filtered = bool(text.strip()) or any(
            c.code() not in (None, "all") for c in (self.intervention, self.status, self.age_band)
        )
        if total:
            self.list_stack.setCurrentWidget(self.table)
        else:
            self.empty.setText(
                f"No one matches “{text.strip()}”{' with these filters' if filtered else ''}.\n"
                "Check the spelling, try the reference, or add them with New participant."
                if filtered
                else "No participants yet — add the first with New participant (Ctrl+N)."
            )
            self.list_stack.setCurrentWidget(self.empty)

    def _show_count(self) -> None:
        """The count follows the first page (it is taken after the rows are painted)."""
        total = self.model.total
        noun = "person" if total == 1 and not self.model.counting else "people"
        if self.model.counting:
            self.count.setText(f"{total:,}+ {noun} (counting…)")
        elif self.model.total_capped:
            self.count.setText(f"More than {total:,} {noun}")
        else:
            self.count.setText(f"{total:,} {noun}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            if self._timer.isActive():
                self.run_search()
            self.model.when_ready(self._focus_first)
            return True
        return super().eventFilter(watched, event)

    def _focus_first(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            self.table.setCurrentIndex(self.model.index(0, COL_NAME))

    def _open_first(self) -> None:
        if self._timer.isActive():
            self.run_search()
        self.model.when_ready(self._open_first_now)

    def _open_first_now(self) -> None:
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, COL_NAME))
            self._open_index(self.model.index(0, COL_NAME))

    def _open_index(self, index) -> None:
        if index is not None and index.isValid():
            self.open_participant(index.siblingAtColumn(COL_NAME).data(RecordIdRole))

    def open_participant(self, participant_id: str) -> None:
        if self.detail.participant and self.detail.participant["id"] == participant_id:
            return
        try:
            self.detail.load(participant_id)
        except Exception as exc:  # an erased or missing id: say so, keep the page usable
            show_error(self, exc, action="open this participant")
            return
        self.detail_stack.setCurrentWidget(self.detail)

    def show_record(self, record_id: str) -> None:
        """Open a given participant (from the dashboard, a session register, a link)."""
        self.detail.data = None
        self.open_participant(record_id)
        self.model.when_ready(lambda: self._select(record_id))

    def _select(self, record_id: str) -> None:
        row = self.model.row_of(record_id)
        if row >= 0:
            self.table.selectRow(row)

    #: the main window calls ``open_record``; the brief named it ``show_record``
    open_record = show_record

    def visible_names(self) -> list[str]:
        return [self.model.index(r, COL_NAME).data() for r in range(self.model.rowCount())]

    def visible_references(self) -> list[str]:
        return [self.model.index(r, COL_REFERENCE).data() for r in range(self.model.rowCount())]

    def visible_districts(self) -> list[str]:
        return [self.model.index(r, COL_POSTCODE).data() for r in range(self.model.rowCount())]

    # -- actions -------------------------------------------------------------------------
    def new_participant(self) -> None:
        self.dialog = ParticipantDialog(self, title="New participant")

        def finished(result: int) -> None:
            if result:
                self.ctx.run_op(
                    participants.create_participant,
                    self.dialog.values(),
                    changes=("participant",),
                    warning_reason=self.dialog.warning_reason,
                    on_done=self._created,
                    on_error=lambda exc: show_error(self, exc, action="add the participant"),
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def _created(self, p: dict) -> None:
        self.run_search()
        self.show_record(p["id"])

    def _detail_changed(self, participant_id: str) -> None:
        self.run_search()
        if participant_id:
            self.model.when_ready(lambda: self._select(participant_id))
        else:
            erased = self.detail.participant["reference"] if self.detail.participant else ""
            self.detail.data = None
            self.placeholder.setText(
                f"{erased} was erased. Choose someone from the list to see their record."
            )
            self.detail_stack.setCurrentWidget(self.placeholder)
