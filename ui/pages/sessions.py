"""Sessions: the list (newest first, lazy) and the logging form in one page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.forms.fields import CodeCombo
from ui.forms.keyboard import Button, give_focus
from ui.forms.session_dialogs import ask_and_delete
from ui.forms.session_draft import load_draft
from ui.forms.session_form import SessionForm
from ui.models.sessions_model import COL_INTERVENTION, COL_WHEN, RecordIdRole, SessionsModel
from vrp_desktop.services import interventions, sessions


class SessionsPage(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

        self.filter = CodeCombo({}, blank="All interventions")
        self.filter.setAccessibleName("Filter sessions by intervention")
        self.new_button = Button("&Log a session")
        self.new_button.setToolTip("Log a 1:1, group or outreach session (Ctrl+N)")
        self.delete_button = Button("&Delete…")
        self.delete_button.setToolTip("Delete the selected session, with a reason (Delete key)")
        self.delete_button.setEnabled(False)
        self.count = QLabel()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.model = SessionsModel(ctx, self)
        self.model.refreshed.connect(self._show_count)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Sessions")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_INTERVENTION, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_WHEN, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = QLabel("No sessions yet — log one with Log a session (Ctrl+N).")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)

        self.list_page = QWidget()
        top = QHBoxLayout()
        top.addWidget(QLabel("<h2>Sessions</h2>"))
        top.addStretch(1)
        top.addWidget(self.filter)
        top.addWidget(self.count)
        top.addWidget(self.delete_button)
        top.addWidget(self.new_button)
        list_layout = QVBoxLayout(self.list_page)
        list_layout.addLayout(top)
        list_layout.addWidget(self.banner)
        list_layout.addWidget(self.list_stack, 1)

        self.form = SessionForm(ctx)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list_page)
        self.stack.addWidget(self.form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.filter.currentIndexChanged.connect(self.refresh)
        self.new_button.clicked.connect(self.new_session)
        self.table.activated.connect(self._open_index)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.delete_button.clicked.connect(self.delete_selected)
        self.form.saved.connect(self._saved)
        self.form.deleted.connect(self._deleted)
        self.form.closed.connect(self.show_list)
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.delete_selected,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        QShortcut(
            QKeySequence.StandardKey.New,
            self.list_page,
            self.new_session,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self.dialog = None
        self.setTabOrder(self.filter, self.new_button)
        self.setTabOrder(self.new_button, self.table)
        self.setTabOrder(self.table, self.delete_button)
        self._stale = False
        ctx.data_changed.connect(self._data_changed)
        self.reload_interventions()
        self.refresh()

    def _data_changed(self, entity: str) -> None:
        if entity in ("session", "participant", "intervention"):
            self._stale = True
        if entity == "intervention":
            self.reload_interventions()
            self.form.reload_interventions()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and self.stack.currentWidget() is self.list_page:
            self._stale = False
            self.refresh()

    def reload_interventions(self) -> None:
        def loaded(rows: list[dict]) -> None:
            self.filter.blockSignals(True)
            self.filter.set_entries([(i["id"], i["name"]) for i in rows], blank="All interventions")
            self.filter.blockSignals(False)

        self.ctx.read(interventions.list_interventions, on_done=loaded)

    def refresh(self) -> None:
        self.model.set_intervention(self.filter.code())

    def _show_count(self) -> None:
        """The list's first page is in (read on the store thread): count and empty state."""
        total = self.model.total
        self.count.setText(f"{total:,} session{'s' if total != 1 else ''}")
        self.list_stack.setCurrentWidget(self.table if total else self.empty)

    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list_page)
        give_focus(self.new_button)

    def new_session(self) -> None:
        self.banner.hide()
        self.form.start_new()
        self.stack.setCurrentWidget(self.form)
        self.form.intervention.setFocus()

    def show_record(self, record_id: str) -> None:
        """Open a saved session in the form (filled in as its data arrives)."""
        self.banner.hide()
        self.form.load_session(record_id)
        self.stack.setCurrentWidget(self.form)
        self.form.intervention.setFocus()

    def new_session_for(self, participant_id: str, intervention_id: str | None = None) -> None:
        """The form for a new session with this person on the register (from their record).

        An unsaved session waiting as a draft comes first (it is never overwritten): it is
        restored, and the form says to save or discard it before logging this one.
        """
        self.banner.hide()
        if load_draft(self.form.draft_file):
            self.new_session()
            self.form._say(
                "You have an unsaved session: it is restored here. Save it or discard the draft, "
                "then log the session for this person from their record."
            )
            return
        self.form.reset()
        self.stack.setCurrentWidget(self.form)
        self.form.intervention.setFocus()

        def preset() -> None:  # once the intervention list is in (the page may be brand new)
            if intervention_id:
                self.form.intervention.set_code(intervention_id)
            self.ctx.read(
                sessions.people_on_register,
                [participant_id],
                intervention_id,
                self.form._day(),
                on_done=lambda people: self.form._add_people(people, ticked=True),
            )

        self.form.reload_interventions(then=preset)

    def open_record(self, record_id: str) -> None:
        """The main window's way in: a saved session id, ``new`` (a blank form), or
        ``new-for:<person>[|<intervention>]``
        (see ``ui.pages.participant_detail.NEW_SESSION_FOR``)."""
        if record_id == "new":
            self.new_session()
        elif record_id.startswith("new-for:"):
            person, _, intervention = record_id.removeprefix("new-for:").partition("|")
            self.new_session_for(person, intervention or None)
        else:
            self.show_record(record_id)

    def _open_index(self, index) -> None:
        if index.isValid():
            self.show_record(index.siblingAtColumn(COL_WHEN).data(RecordIdRole))

    def _current_changed(self, current, _previous) -> None:
        self.delete_button.setEnabled(current.isValid())

    def delete_selected(self) -> None:
        """Delete the selected session with a reason (a tombstone tells the VRP)."""
        index = self.table.currentIndex()
        if not index.isValid():
            return
        session_id = index.siblingAtColumn(COL_WHEN).data(RecordIdRole)
        when = index.siblingAtColumn(COL_WHEN).data()
        name = index.siblingAtColumn(COL_INTERVENTION).data()
        description = f"the {name} session of {when}"
        self.dialog = ask_and_delete(self, self.ctx, session_id, description, self._deleted)

    def _deleted(self, _session_id: str) -> None:
        self.refresh()
        self.banner.setText("✔ Session deleted. The VRP is told in your next batch.")
        theme.set_tone(self.banner, None)
        self.banner.show()
        self.show_list()

    def _saved(self, record: dict) -> None:
        self.refresh()
        people = sum(1 for a in record["attendees"] if a["status"] != "absent")
        if record["sync_state"] == "draft":
            problems = "; ".join(f["message"] for f in record["findings"][:3])
            self.banner.setText(
                f"✖ Saved as a draft: it needs attention before it can be sent. {problems}"
            )
            theme.set_tone(self.banner, "error")
        else:
            self.banner.setText(f"✔ Session saved with {people} attending.")
            theme.set_tone(self.banner, None)
        self.banner.show()
        self.show_list()
        self.model.when_ready(lambda: self._select(record["id"]))

    def _select(self, record_id: str) -> None:
        row = self.model.row_of(record_id)
        if row >= 0:
            self.table.selectRow(row)
