"""One participant: who they are, consent, enrolments, a timeline, and what can be done."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.errors import show_error
from ui.forms.enrolment_form import EnrolDialog, ExitDialog
from ui.forms.erase_dialog import EraseDialog
from ui.forms.keyboard import Button
from ui.forms.participant_form import ParticipantDialog
from vrp_desktop import codes
from vrp_desktop.services import enrolments, interventions, participants, timeline

#: ``navigate("sessions", NEW_SESSION_FOR + participant_id [+ "|" + intervention_id])`` opens
#: the session form for a new session with that person on the register
NEW_SESSION_FOR = "new-for:"


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}"


def load_participant(ws, participant_id: str) -> dict[str, Any]:
    """Everything the panel shows, gathered in one store-thread job."""
    names = {i["id"]: i for i in interventions.list_interventions(ws, active_only=False)}
    return {
        "participant": participants.get_participant(ws, participant_id),
        "enrolments": [
            {
                **e,
                "intervention": names.get(e["intervention_id"], {}).get("name", ""),
                "exit_label": interventions.framework_for(ws, e["intervention_id"])
                .code_map("exit_reasons")
                .get(e["exit_reason"] or "", e["exit_reason"] or ""),
            }
            for e in enrolments.enrolments_for(ws, participant_id)
        ],
        "timeline": timeline.timeline(ws, participant_id),
    }


def load_frameworks(ws) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = interventions.list_interventions(ws)
    return rows, {i["id"]: interventions.framework_for(ws, i["id"]) for i in rows}


class WrapDelegate(QStyledItemDelegate):
    """Row heights that follow wrapped text: a tree view alone measures one line per row."""

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        base = super().sizeHint(option, index)
        width = self.parent().header().sectionSize(index.column()) - 8
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        box = opt.fontMetrics.boundingRect(
            QRect(0, 0, max(width, 20), 100_000), Qt.TextFlag.TextWordWrap, opt.text
        )
        return QSize(base.width(), max(base.height(), box.height() + 4))


class ParticipantDetail(QWidget):
    """Shows one participant; ``changed`` after any save so the list refreshes."""

    changed = Signal(str)  # participant id ("" after an erasure)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: dict[str, Any] | None = None
        self.dialog = None
        #: the participant being read (None once shown)
        self.loading_id: str | None = None
        self._request = 0

        self.title = QLabel()
        self.title.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        theme.set_tone(self.problems, "error")
        #: the VRP's reason when it rejected this person's record or one of their enrolments
        self.rejection = QLabel()
        self.rejection.setObjectName("rejection")
        self.rejection.setWordWrap(True)
        self.rejection.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_tone(self.rejection, "warning")

        self.edit_button = Button("&Edit")
        self.enrol_button = Button("E&nrol…")
        self.exit_button = Button("E&xit…")
        self.withdraw_button = Button("&Withdraw consent…")
        self.erase_button = QPushButton("Erase…")
        self.session_button = Button("Log a &session")
        self.session_button.setToolTip("Log a session with this person on the register")
        self.questionnaire_button = Button("&Questionnaire")
        self.questionnaire_button.setToolTip(
            "Record a questionnaire for this person (the one due is chosen for you)"
        )
        self.exit_button.setToolTip("Record that they left the selected enrolment")
        self.erase_button.setToolTip("Remove this person's data for good (a manager's job)")
        # two short rows, so every label stays whole in the narrow record pane at 1280×720:
        # what a worker does most for this person first, then changes to the record itself
        actions = QVBoxLayout()
        doing = QHBoxLayout()
        doing.addWidget(self.session_button)
        doing.addWidget(self.questionnaire_button)
        doing.addStretch(1)
        doing.addWidget(self.edit_button)
        record = QHBoxLayout()
        for b in (self.enrol_button, self.exit_button, self.withdraw_button):
            record.addWidget(b)
        record.addStretch(1)
        record.addWidget(self.erase_button)
        actions.addLayout(doing)
        actions.addLayout(record)

        self.facts = QFormLayout()
        facts_box = QGroupBox("Details")
        facts_box.setLayout(self.facts)

        self.enrolment_table = QTableWidget(0, 4)
        self.enrolment_table.setHorizontalHeaderLabels(["Intervention", "Started", "Left", "Why"])
        self.enrolment_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.enrolment_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.enrolment_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.enrolment_table.setTabKeyNavigation(False)
        self.enrolment_table.verticalHeader().hide()
        enrolment_header = self.enrolment_table.horizontalHeader()
        enrolment_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):  # dates and the reason take what they need; the name the rest
            enrolment_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.enrolment_table.setMaximumHeight(120)
        self.enrolment_table.setAccessibleName("Enrolments")
        enrol_box = QGroupBox("Enrolments")
        QVBoxLayout(enrol_box).addWidget(self.enrolment_table)

        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["When", "What", "Detail"])
        self.timeline.setRootIsDecorated(False)
        self.timeline.setAccessibleName("Timeline")
        # fits the page at 1280×720: the date sizes to its text, the rest share what is left
        # and long details wrap instead of scrolling sideways
        header = self.timeline.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline.setWordWrap(True)
        self.timeline.setUniformRowHeights(False)
        self.timeline.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.timeline.setItemDelegate(WrapDelegate(self.timeline))
        # rows are measured when filled; measure again when the columns change width
        header.sectionResized.connect(lambda *_: self.timeline.scheduleDelayedItemsLayout())
        self.timeline.setToolTip("Double-click a session or questionnaire to open it")
        time_box = QGroupBox("Timeline (newest first)")
        QVBoxLayout(time_box).addWidget(self.timeline)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.problems)
        layout.addWidget(self.rejection)
        layout.addLayout(actions)
        layout.addWidget(facts_box)
        layout.addWidget(enrol_box)
        layout.addWidget(time_box, 1)

        self.session_button.clicked.connect(self.log_session)
        self.questionnaire_button.clicked.connect(self.questionnaire)
        self.edit_button.clicked.connect(self.edit)
        self.enrol_button.clicked.connect(lambda: self.enrol())
        self.exit_button.clicked.connect(self.exit_enrolment)
        self.withdraw_button.clicked.connect(self.withdraw)
        self.erase_button.clicked.connect(self.erase)
        self.enrolment_table.itemSelectionChanged.connect(self._update_buttons)
        self.timeline.itemActivated.connect(self._open_entry)

    def _fit_enrolments(self) -> None:
        """The enrolment table as tall as its rows (one to three shown): the timeline below,
        what a worker reads most, gets the rest of the height at 1280×720."""
        table = self.enrolment_table
        rows = min(max(table.rowCount(), 1), 3) * table.verticalHeader().defaultSectionSize()
        height = table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + 2
        table.setFixedHeight(min(height, 120))

    # -- showing ---------------------------------------------------------------------------
    @property
    def participant(self) -> dict[str, Any] | None:
        return self.data["participant"] if self.data else None

    def load(self, participant_id: str) -> None:
        """Show this participant once the store thread has read them (the window never waits).

        A newer ``load`` wins over one still on its way.
        """
        self._request += 1
        request = self._request
        self.loading_id = participant_id

        def done(data: dict[str, Any]) -> None:
            if request == self._request:
                self.loading_id = None
                self.data = data
                self._fill()

        def failed(exc: BaseException) -> None:
            if request == self._request:
                self.loading_id = None
                show_error(self, exc, action="open this participant")

        self.ctx.read(load_participant, participant_id, on_done=done, on_error=failed)

    def _fill(self) -> None:
        assert self.data is not None
        p = self.data["participant"]
        self.title.setText(p["display_name"])
        state = "Needs attention" if p["sync_state"] == "draft" else "Ready to send"
        if p["sync_state"] not in ("draft", "valid"):
            state = p["sync_state"].title()
        self.subtitle.setText(f"Reference {p['reference']} · {state}")
        problems = [f["message"] for f in p["findings"]]
        self.problems.setText("\n".join(f"✖ {m}" for m in problems))
        self.problems.setVisible(bool(problems))
        refused = [f"The VRP rejected this record: {p['rejection_reason'] or 'no reason given'}"]
        refused = refused if p["sync_state"] == "rejected" else []
        refused += [
            f"The VRP rejected the enrolment in {e['intervention'] or 'an intervention'}: "
            f"{e['rejection_reason'] or 'no reason given'}"
            for e in self.data["enrolments"]
            if e["sync_state"] == "rejected"
        ]
        if refused:
            refused.append(
                "Fix it and save, and it goes again; if there is nothing to fix, send it again "
                "from the Sync page."
            )
        self.rejection.setText("\n".join(refused))
        self.rejection.setVisible(bool(refused))

        while self.facts.rowCount():
            self.facts.removeRow(0)
        dob = p["date_of_birth"]
        consent = codes.CONSENT_STATUSES.get(p["consent_status"] or "", "Not recorded")
        if p["consent_date"]:
            consent += f" ({_date(p['consent_date'])})"
        rows = [
            ("Date of birth", f"{_date(dob)} (age band {p['age_band']})" if dob else "Not given"),
            ("Gender", codes.GENDERS.get(p["gender"] or "", "Not given")),
            ("Ethnicity", codes.ETHNICITIES.get(p["ethnicity"] or "", "Not given")),
            ("Postcode district", p["postcode_district"] or "Not given"),
            ("Consent", consent),
        ]
        contact = ", ".join(x for x in (p["phone"], p["email"]) if x)
        if contact:
            rows.append(("Contact", contact))
        for label, value in rows:
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(f"{label}:", text)

        self.enrolment_table.setRowCount(0)
        for e in self.data["enrolments"]:
            row = self.enrolment_table.rowCount()
            self.enrolment_table.insertRow(row)
            values = (
                e["intervention"],
                _date(e["start_date"]),
                _date(e["end_date"]) or "still on it",
                e["exit_label"],
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)  # a long intervention name is cut to fit the pane
                item.setData(Qt.ItemDataRole.UserRole, e["id"])
                self.enrolment_table.setItem(row, column, item)
        active = [i for i, e in enumerate(self.data["enrolments"]) if e["end_date"] is None]
        if active:
            self.enrolment_table.selectRow(active[0])
        self._fit_enrolments()

        self.timeline.clear()
        for entry in reversed(self.data["timeline"]):
            item = QTreeWidgetItem(
                [
                    _date(entry["when"]),
                    entry["title"],
                    entry["detail"],
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, (entry["kind"], entry["record_id"]))
            self.timeline.addTopLevelItem(item)
        if not self.data["timeline"]:
            self.timeline.addTopLevelItem(
                QTreeWidgetItem(["", "Nothing yet: enrol them, then log sessions.", ""])
            )
        erased = p["erased"]
        for b in (self.edit_button, self.enrol_button, self.withdraw_button, self.erase_button):
            b.setEnabled(not erased)
        enrolled = bool(self.data["enrolments"])
        self.session_button.setEnabled(not erased and enrolled)
        self.questionnaire_button.setEnabled(not erased and enrolled)
        if not enrolled:
            hint = "Enrol them first (Alt+N)"
            self.session_button.setToolTip(hint)
            self.questionnaire_button.setToolTip(hint)
        self.withdraw_button.setEnabled(not erased and p["consent_status"] != "withdrawn")
        self._update_buttons()

    def selected_enrolment(self) -> dict[str, Any] | None:
        rows = self.enrolment_table.selectionModel().selectedRows()
        if not rows or self.data is None:
            return None
        return self.data["enrolments"][rows[0].row()]

    def _update_buttons(self) -> None:
        e = self.selected_enrolment()
        self.exit_button.setEnabled(e is not None and e["end_date"] is None)

    def _open_entry(self, item: QTreeWidgetItem) -> None:
        kind_id = item.data(0, Qt.ItemDataRole.UserRole)
        if not kind_id:
            return
        kind, record_id = kind_id
        if kind == "session":
            self.ctx.navigate.emit("sessions", record_id)
        elif kind == "questionnaire":
            self.ctx.navigate.emit("outcomes", record_id)

    # -- actions ---------------------------------------------------------------------------
    def _run(
        self, fn, *args, action: str, entity: str = "participant", erased: bool = False, **kwargs
    ) -> None:
        pid = self.participant["id"] if self.participant else ""

        def done(_result: object) -> None:
            self.load(pid)
            self.changed.emit("" if erased else pid)

        self.ctx.run_op(
            fn,
            *args,
            changes=(entity,),
            on_done=done,
            on_error=lambda exc: show_error(self, exc, action=action),
            **kwargs,
        )

    def log_session(self) -> None:
        """The session form, with this person on the register and their intervention chosen."""
        p = self.participant
        if p is None:
            return
        e = self.selected_enrolment()
        if e is None or e["end_date"] is not None:
            current = [x for x in (self.data or {}).get("enrolments", []) if not x["end_date"]]
            e = current[0] if current else e
        target = f"{NEW_SESSION_FOR}{p['id']}"
        if e is not None:
            target += f"|{e['intervention_id']}"
        self.ctx.navigate.emit("sessions", target)

    def questionnaire(self) -> None:
        """The questionnaire page for this person, the due questionnaire and timepoint chosen."""
        if self.participant is not None:
            self.ctx.navigate.emit("outcomes", self.participant["id"])

    def edit(self) -> None:
        p = self.participant
        if p is None:
            return
        self.dialog = ParticipantDialog(self, title=f"Edit {p['display_name']}", participant=p)

        def finished(result: int) -> None:
            if result and (values := self.dialog.values()):
                self._run(
                    participants.update_participant,
                    p["id"],
                    values,
                    warning_reason=self.dialog.warning_reason,
                    action="save the changes",
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def enrol(self, intervention_id: str | None = None) -> None:
        p = self.participant
        if p is None:
            return
        self.ctx.read(
            load_frameworks,
            on_done=lambda loaded: self._open_enrol(p, intervention_id, *loaded),
            on_error=lambda exc: show_error(self, exc, action="enrol them"),
        )

    def _open_enrol(self, p, intervention_id, rows, frameworks) -> None:
        self.dialog = EnrolDialog(
            self,
            participant=p,
            interventions=rows,
            frameworks=frameworks,
            intervention_id=intervention_id,
        )

        def finished(result: int) -> None:
            if result:
                d = self.dialog
                values = {
                    k: v
                    for k, v in d.values().items()
                    if not isinstance(v, str) or k == "referral_source"
                }
                self._run(
                    enrolments.enrol,
                    p["id"],
                    d.intervention.code(),
                    values,
                    warning_reason=d.warning_reason,
                    action="enrol them",
                    entity="enrolment",
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def exit_enrolment(self) -> None:
        e = self.selected_enrolment()
        if e is None:
            return
        self.ctx.read(
            interventions.framework_for,
            e["intervention_id"],
            on_done=lambda fw: self._open_exit(e, fw),
            on_error=lambda exc: show_error(self, exc, action="record the exit"),
        )

    def _open_exit(self, e: dict[str, Any], fw) -> None:
        self.dialog = ExitDialog(self, enrolment=e, name=e["intervention"], framework=fw)

        def finished(result: int) -> None:
            if result:
                v = self.dialog.values()
                self._run(
                    enrolments.exit_enrolment,
                    e["id"],
                    end_date=v["end_date"],
                    exit_reason=v["exit_reason"],
                    exit_detail=v["exit_detail"],
                    action="record the exit",
                    entity="enrolment",
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def withdraw(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        p = self.participant
        if p is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Withdraw consent",
            f"Record that {p['display_name']} withdrew consent today? Their record stays, and the "
            "VRP is told in the next batch. To remove their data as well, use Erase.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        self.dialog = box

        def finished(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes:
                self._run(participants.withdraw_consent, p["id"], action="withdraw consent")

        box.finished.connect(finished)
        box.open()

    def erase(self) -> None:
        p = self.participant
        if p is None:
            return
        self.dialog = EraseDialog(self, reference=p["reference"], name=p["display_name"])

        def finished(result: int) -> None:
            if result:
                d = self.dialog
                self._run(
                    participants.erase_participant,
                    p["id"],
                    confirm=d.typed.text(),
                    reason=d.reason.text(),
                    action="erase",
                    erased=True,
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()
