"""One form for 1:1, group and outreach sessions, built from the intervention's framework.

Fields follow the framework's code lists and duration range; the register sits beside them.
Everything is checked as it is typed with the same engine the batch builder uses, and the form
state (codes, numbers and ids, never the notes) is autosaved every few seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.errors import show_error
from ui.forms.enrolment_form import EnrolDialog
from ui.forms.fields import CheckList, CodeCombo
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save
from ui.forms.participant_form import ParticipantDialog
from ui.forms.participant_picker import ParticipantPicker
from ui.forms.register_panel import RegisterPanel
from ui.forms.session_draft import clear_draft, draft_path, load_draft, save_draft
from ui.models.register_model import RegisterModel, RegisterRow
from vrp_desktop import codes
from vrp_desktop.frameworks.models import Framework
from vrp_desktop.services import enrolments, interventions, participants, sessions
from vrp_desktop.validation.engine import AttendeeContext, validate_session
from vrp_desktop.validation.findings import error

AUTOSAVE_MS = 3000
NOTES_TIP = (
    "Notes stay on this device and never travel to the VRP. They are not kept in the autosaved "
    "draft, so save the session before you close the app."
)


def now_rounded(step: int = 15) -> dt.datetime:
    """Now, rounded down to the last quarter hour (a session that started 'just now')."""
    now = dt.datetime.now().replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=now.minute % step)


def people_info(ws, ids: list[str]) -> list[dict[str, Any]]:
    """Reference, name and enrolment spans for register rows (one store-thread job)."""
    result = []
    for pid in ids:
        p = participants.get_participant(ws, pid)
        if p["erased"]:
            continue
        spans = [
            (e["intervention_id"], e["start_date"], e["end_date"])
            for e in enrolments.enrolments_for(ws, pid)
        ]
        result.append(
            {"id": pid, "reference": p["reference"], "name": p["display_name"], "spans": spans}
        )
    return result


def _last_attendees(ws, intervention_id: str) -> list[dict[str, Any]]:
    last = sessions.last_session(ws, intervention_id)
    if last is None:
        return []
    return people_info(ws, [a["participant_id"] for a in last["attendees"]])


def weekly_day(last: dt.datetime, now: dt.datetime, fallback: dt.date) -> dt.date:
    """The latest date a whole number of weeks after ``last`` that has already begun at its
    time (last night's run of a weekly group); ``fallback`` within a week of the last one."""
    weeks = (now - last).days // 7
    if weeks < 1:
        return fallback
    return (last + dt.timedelta(weeks=weeks)).date()


def _repeat(ws, intervention_id: str, on: dt.date) -> dict[str, Any] | None:
    last = sessions.last_session(ws, intervention_id)
    if last is None:
        return None
    day = weekly_day(last["starts_at"], dt.datetime.now(), on)
    plan = sessions.repeat_last(ws, intervention_id, on=day)
    if plan is None:
        return None
    return {**plan, "people": people_info(ws, plan["attendees"])}


class SessionForm(QWidget):
    """Emits ``saved(record)`` after a save and ``closed()`` when the person leaves the form."""

    saved = Signal(dict)
    closed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id: str | None = None
        self.dialog = None
        self._frameworks: dict[str, Framework] = {}
        self._spans: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = {}
        self._loading = False
        self._dirty = False
        self._saving = False
        self.draft_file = draft_path(ctx.ws.workspace_id, ctx.ws.user.username)

        self.view = FindingsView(FieldMessage(self))
        self.heading = QLabel("<h2>Log a session</h2>")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.discard_button = QPushButton("Discard draft")
        self.discard_button.hide()

        self.intervention = CodeCombo({})
        self.repeat_button = QPushButton("&Repeat last session")
        self.repeat_button.setToolTip(
            "Copy the last session of this intervention (time, activities and who came) to the "
            "date above: handy for weekly groups"
        )
        self.when = QDateTimeEdit()
        self.when.setDisplayFormat("ddd dd/MM/yyyy HH:mm")
        self.when.setCalendarPopup(True)
        self.when.setDateTime(QDateTime(now_rounded()))
        self.duration = QSpinBox()
        self.duration.setRange(0, 1440)
        self.duration.setSuffix(" min")
        self.duration.setSpecialValueText("—")
        self.duration.setSingleStep(15)
        self.duration.setValue(60)
        self.session_type = CodeCombo({})
        self.mode = CodeCombo({})
        self.location_type = CodeCombo({})
        self.status = CodeCombo(codes.SESSION_STATUSES, blank=None)
        self.status.set_code("delivered")
        self.staff = QLineEdit(ctx.ws.user.username)
        self.staff.setToolTip("Usernames of the staff who ran it, separated by commas")
        self.activities = CheckList({})
        self.activities.setMinimumHeight(110)
        self.activities.setToolTip("Up/Down to move, Space to tick")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(60)
        self.notes.setToolTip(NOTES_TIP)
        self.notes.setPlaceholderText("Optional. Stays on this device; not autosaved.")

        pick = QWidget()
        pick_row = QHBoxLayout(pick)
        pick_row.setContentsMargins(0, 0, 0, 0)
        pick_row.addWidget(self.intervention, 1)
        pick_row.addWidget(self.repeat_button)
        self.intervention.setAccessibleName("Intervention")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        v = self.view
        add_field(form, v, "&Intervention", pick, "intervention_id")
        add_field(form, v, "&When", self.when, "starts_at")
        add_field(form, v, "&Length", self.duration, "duration_minutes")
        add_field(form, v, "&Type", self.session_type, "session_type")
        add_field(form, v, "&Mode", self.mode, "mode")
        add_field(form, v, "L&ocation", self.location_type, "location_type")
        add_field(form, v, "Stat&us", self.status, "status")
        add_field(form, v, "&Staff", self.staff, "staff")
        add_field(form, v, "&Activities", self.activities, "activities")
        add_field(form, v, "&Notes", self.notes, "notes", hint=NOTES_TIP)
        self.intervention.setAccessibleName("Intervention")

        self.register = RegisterModel(self)
        self.register_panel = RegisterPanel(self.register)
        v.add("attendees", self.register_panel.message)

        self.save_button = QPushButton("&Save session")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.cancel_button = QPushButton("Close")
        self.cancel_button.setToolTip("Back to the list; an unsaved new session stays as a draft")

        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.discard_button)
        columns = QHBoxLayout()
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addLayout(form)
        left_box.addStretch(1)
        columns.addWidget(left, 1)
        columns.addWidget(self.register_panel, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.view.summary, 1)
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(banner_row)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)

        chain = [
            self.intervention,
            self.repeat_button,
            self.when,
            self.duration,
            self.session_type,
            self.mode,
            self.location_type,
            self.status,
            self.staff,
            self.activities,
            self.notes,
            self.register_panel.last_button,
            self.register_panel.walk_in_button,
            self.register_panel.new_button,
            self.register_panel.view,
            self.save_button,
            self.cancel_button,
        ]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

        self.intervention.currentIndexChanged.connect(self._intervention_changed)
        self.when.dateTimeChanged.connect(self._edited)
        self.duration.valueChanged.connect(self._edited)
        for combo in (self.session_type, self.mode, self.location_type, self.status):
            combo.currentIndexChanged.connect(self._edited)
        self.staff.textChanged.connect(self._edited)
        self.activities.itemChanged.connect(self._edited)
        self.notes.textChanged.connect(self._edited)
        self.register.changed.connect(self._edited)
        self.repeat_button.clicked.connect(self.repeat_last)
        self.register_panel.start_from_last.connect(self.start_from_last)
        self.register_panel.add_walk_in.connect(self.add_walk_in)
        self.register_panel.new_participant.connect(self.new_participant)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.close_form)
        self.discard_button.clicked.connect(self.discard_draft)
        QShortcut(
            QKeySequence.StandardKey.Save,
            self,
            self.save,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )

        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self.reload_interventions()

    # -- framework -----------------------------------------------------------------------
    def reload_interventions(self) -> None:
        rows = self.ctx.runner.call(interventions.list_interventions, self.ctx.ws)
        self.intervention.set_entries([(i["id"], i["name"]) for i in rows])

    def framework(self) -> Framework | None:
        iid = self.intervention.code()
        if not iid:
            return None
        if iid not in self._frameworks:
            self._frameworks[iid] = self.ctx.runner.call(
                interventions.framework_for, self.ctx.ws, iid
            )
        return self._frameworks[iid]

    def _intervention_changed(self) -> None:
        fw = self.framework()
        loading, self._loading = self._loading, True
        if fw is None:
            for combo in (self.session_type, self.mode, self.location_type):
                combo.set_entries({})
            self.activities.set_entries({})
            self.duration.setToolTip("")
        else:
            self.session_type.set_entries(
                [(c, codes.SESSION_TYPES.get(c, c)) for c in fw.session_types]
            )
            self.mode.set_entries([(c, codes.MODES.get(c, c)) for c in fw.modes])
            if len(fw.modes) == 1:
                self.mode.set_code(fw.modes[0])
            self.location_type.set_entries(fw.code_map("location_types"))
            self.activities.set_entries(fw.code_map("activities"))
            rng = fw.duration_minutes
            self.duration.setToolTip(f"{fw.name} sessions last {rng.min} to {rng.max} minutes")
        self._loading = loading
        self._edited()

    # -- state ---------------------------------------------------------------------------
    def starts_at(self) -> dt.datetime:
        return self.when.dateTime().toPython().replace(second=0, microsecond=0)

    def fields(self) -> dict[str, Any]:
        return {
            "starts_at": self.starts_at(),
            "duration_minutes": self.duration.value() or None,
            "session_type": self.session_type.code(),
            "mode": self.mode.code(),
            "location_type": self.location_type.code(),
            "status": self.status.code(),
            "staff": [s.strip() for s in self.staff.text().split(",") if s.strip()],
            "activities": self.activities.codes(),
            "notes": self.notes.toPlainText().strip() or None,
        }

    def _enrolled(self, pid: str, day: dt.date) -> bool | None:
        spans = self._spans.get(pid)
        if spans is None:
            return None
        iid = self.intervention.code()
        return any(
            i == iid and start is not None and start <= day and (end is None or end >= day)
            for i, start, end in spans
        )

    def findings(self) -> list[Any]:
        fw = self.framework()
        if fw is None:
            return [
                error(
                    "intervention_id", "Choose the intervention this session was for.", "required"
                )
            ]
        record = {"intervention_id": self.intervention.code(), **self.fields()}
        day = record["starts_at"].date()
        contexts = []
        for row in self.register.rows():
            if row.ticked:
                enrolled = self._enrolled(row.participant_id, day)
                contexts.append(
                    AttendeeContext(
                        participant_id=row.participant_id,
                        reference=row.reference,
                        status=row.status,
                        enrolled=enrolled is not False,
                    )
                )
        return validate_session(record, framework=fw, attendees=contexts, now=dt.datetime.now())

    def revalidate(self) -> list[Any]:
        findings = self.findings()
        self.view.show(findings)
        day = self.starts_at().date()
        self.register.set_enrolled(
            {
                r.participant_id: bool(self._enrolled(r.participant_id, day))
                for r in self.register.rows()
                if r.participant_id in self._spans
            }
        )
        return findings

    def _edited(self, *_args: object) -> None:
        if self._loading:
            return
        self._dirty = True
        self.revalidate()

    # -- register ------------------------------------------------------------------------
    def _add_people(self, people: list[dict[str, Any]], *, ticked: bool) -> None:
        for person in people:
            self._spans[person["id"]] = person["spans"]
            self.register.add(
                RegisterRow(person["id"], person["reference"], person["name"], ticked=ticked)
            )
        self._edited()

    def start_from_last(self) -> None:
        iid = self.intervention.code()
        if not iid:
            self._say("Choose the intervention first, then start from its last session.")
            return
        people = self.ctx.runner.call(_last_attendees, self.ctx.ws, iid)
        if not people:
            self._say("This intervention has no earlier session yet: add people one by one.")
            return
        self._add_people(people, ticked=False)
        self.register_panel.view.setFocus()

    def repeat_last(self) -> None:
        iid = self.intervention.code()
        if not iid:
            self._say("Choose the intervention first, then repeat its last session.")
            return
        plan = self.ctx.runner.call(_repeat, self.ctx.ws, iid, self.starts_at().date())
        if plan is None:
            self._say("This intervention has no earlier session to repeat.")
            return
        fields = plan["fields"]
        self._loading = True
        start: dt.datetime = fields["starts_at"]
        self.when.setDateTime(QDateTime(start))
        self.duration.setValue(fields["duration_minutes"] or 0)
        self.session_type.set_code(fields["session_type"])
        self.mode.set_code(fields["mode"])
        self.location_type.set_code(fields["location_type"])
        self.status.set_code("delivered")
        self.staff.setText(", ".join(fields["staff"] or [self.ctx.ws.user.username]))
        self.activities.set_codes(fields["activities"] or [])
        self._loading = False
        self._add_people(plan["people"], ticked=True)
        self._say(
            f"Copied from the last session. Untick anyone who didn't come this time "
            f"({len(plan['people'])} ticked).",
            warning=False,
        )

    def add_walk_in(self) -> None:
        self.dialog = ParticipantPicker(
            self.ctx,
            self,
            title="Add a walk-in",
            hint="Find the young person, then press Enter to tick them on the register.",
        )

        def finished(result: int) -> None:
            if result and self.dialog.chosen:
                people = self.ctx.runner.call(people_info, self.ctx.ws, [self.dialog.chosen["id"]])
                self._add_people(people, ticked=True)
                self.register_panel.view.setFocus()

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def new_participant(self) -> None:
        self.dialog = ParticipantDialog(self, title="New participant")

        def finished(result: int) -> None:
            if result:
                self.ctx.runner.submit(
                    participants.create_participant,
                    self.ctx.ws,
                    self.dialog.values(),
                    warning_reason=self.dialog.warning_reason,
                    on_done=self._created,
                    on_error=lambda exc: show_error(self, exc, action="add the participant"),
                )

        self.dialog.finished.connect(finished)
        self.dialog.open()

    def _created(self, p: dict[str, Any]) -> None:
        self.ctx.data_changed.emit("participant")
        self._add_people(
            [{"id": p["id"], "reference": p["reference"], "name": p["display_name"], "spans": []}],
            ticked=True,
        )
        if not self.intervention.code():
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Enrol them now?",
            f"{p['display_name']} is ticked, but needs an enrolment in "
            f"{self.intervention.currentText()} for this session to count. Enrol them now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        self.dialog = box
        box.finished.connect(
            lambda r: self._enrol_new(p) if r == QMessageBox.StandardButton.Yes else None
        )
        box.open()

    def _enrol_new(self, p: dict[str, Any]) -> None:
        iid = self.intervention.code()
        fw = self.framework()
        dialog = EnrolDialog(
            self,
            participant=p,
            interventions=[{"id": iid, "name": self.intervention.currentText()}],
            frameworks={iid: fw},
            intervention_id=iid,
        )
        day = self.starts_at().date()
        dialog.referral_date.set_date(day)
        dialog.start_date.set_date(day)
        self.dialog = dialog

        def finished(result: int) -> None:
            if result:
                self.ctx.runner.submit(
                    enrolments.enrol,
                    self.ctx.ws,
                    p["id"],
                    iid,
                    dialog.values(),
                    warning_reason=dialog.warning_reason,
                    on_done=lambda _e: self._refresh_spans([p["id"]]),
                    on_error=lambda exc: show_error(self, exc, action="enrol them"),
                )

        dialog.finished.connect(finished)
        dialog.open()

    def _refresh_spans(self, ids: list[str]) -> None:
        self.ctx.data_changed.emit("enrolment")
        for person in self.ctx.runner.call(people_info, self.ctx.ws, ids):
            self._spans[person["id"]] = person["spans"]
        self._edited()

    def _say(self, text: str, *, warning: bool = True) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet("color: #a15c00;" if warning else "")
        self.banner.show()

    # -- new, edit, drafts ---------------------------------------------------------------
    def start_new(self) -> None:
        """A fresh form, or the autosaved draft if one is waiting."""
        self.reset()
        draft = load_draft(self.draft_file)
        if draft:
            self.apply_state(draft)
            self._say(
                f"Restored your unsaved session from {draft.get('saved_at', 'earlier')}. "
                "Notes are not kept in drafts. Save it, or discard the draft.",
            )
            self.discard_button.show()
        self.intervention.setFocus()

    def reset(self) -> None:
        self._loading = True
        self.session_id = None
        self.heading.setText("<h2>Log a session</h2>")
        self.intervention.set_code(None)
        self._intervention_changed()
        self._loading = True
        self.when.setDateTime(QDateTime(now_rounded()))
        self.duration.setValue(60)
        self.status.set_code("delivered")
        self.staff.setText(self.ctx.ws.user.username)
        self.notes.clear()
        self.register.set_rows([])
        self._spans.clear()
        self.banner.hide()
        self.discard_button.hide()
        self._loading = False
        self._dirty = False
        self.view.untouch_all()
        self.view.show([])

    def state(self) -> dict[str, Any]:
        fields = self.fields()
        fields.pop("notes")
        fields["starts_at"] = fields["starts_at"].isoformat()
        return {
            **fields,
            "session_id": self.session_id,
            "intervention_id": self.intervention.code(),
            "register": [
                {"participant_id": r.participant_id, "ticked": r.ticked, "status": r.status}
                for r in self.register.rows()
            ],
            "saved_at": dt.datetime.now().strftime("%H:%M on %d/%m/%Y"),
        }

    def apply_state(self, state: dict[str, Any]) -> None:
        self._loading = True
        self.session_id = state.get("session_id")
        self.intervention.set_code(state.get("intervention_id"))
        self._intervention_changed()
        self._loading = True
        if state.get("starts_at"):
            start = state["starts_at"]
            if isinstance(start, str):
                start = dt.datetime.fromisoformat(start)
            self.when.setDateTime(QDateTime(start))
        self.duration.setValue(int(state.get("duration_minutes") or 0))
        self.session_type.set_code(state.get("session_type"))
        self.mode.set_code(state.get("mode"))
        self.location_type.set_code(state.get("location_type"))
        self.status.set_code(state.get("status") or "delivered")
        self.staff.setText(", ".join(state.get("staff") or [self.ctx.ws.user.username]))
        self.activities.set_codes(state.get("activities") or [])
        if state.get("notes"):
            self.notes.setPlainText(state["notes"])
        register = state.get("register") or []
        people = {
            p["id"]: p
            for p in self.ctx.runner.call(
                people_info, self.ctx.ws, [r["participant_id"] for r in register]
            )
        }
        rows = []
        for r in register:
            person = people.get(r["participant_id"])
            if person is None:
                continue
            self._spans[person["id"]] = person["spans"]
            rows.append(
                RegisterRow(
                    person["id"],
                    person["reference"],
                    person["name"],
                    ticked=bool(r["ticked"]),
                    status=r.get("status") or "attended",
                )
            )
        self.register.set_rows(rows)
        self._loading = False
        self._dirty = False
        self.revalidate()

    def load_session(self, session_id: str) -> None:
        """Open a saved session for editing (its register ticked as saved)."""
        s = self.ctx.runner.call(sessions.get_session, self.ctx.ws, session_id)
        self.reset()
        self.apply_state(
            {
                **s,
                "register": [
                    {
                        "participant_id": a["participant_id"],
                        "ticked": a["status"] != "absent",
                        "status": a["status"],
                    }
                    for a in s["attendees"]
                ],
            }
        )
        self.session_id = session_id
        self.heading.setText("<h2>Session</h2>")
        if s["sync_state"] == "draft":
            self._say("This session needs attention: fix what is marked, then save.")

    def hideEvent(self, event) -> None:
        """Leaving the page (or the app locking) keeps what was typed, except the notes."""
        self.autosave()
        super().hideEvent(event)

    def autosave(self) -> None:
        if not self._dirty or self._saving:
            return
        save_draft(self.draft_file, self.state())
        self._dirty = False

    def discard_draft(self) -> None:
        clear_draft(self.draft_file)
        self.reset()

    def close_form(self) -> None:
        self.autosave()
        self.closed.emit()

    # -- saving --------------------------------------------------------------------------
    def save(self) -> None:
        if self._saving:
            return
        self.view.reveal_all = True
        findings = self.revalidate()
        if self.framework() is None:
            self.intervention.setFocus()
            return
        ok, reason = confirm_save(self, findings, "session")
        if not ok:
            return
        self._saving = True
        self.save_button.setEnabled(False)
        fields = self.fields()
        attendees = self.register.attendees()
        if self.session_id:
            self.ctx.runner.submit(
                sessions.update_session,
                self.ctx.ws,
                self.session_id,
                fields,
                attendees,
                warning_reason=reason,
                on_done=self._saved,
                on_error=self._failed,
            )
        else:
            self.ctx.runner.submit(
                sessions.log_session,
                self.ctx.ws,
                self.intervention.code(),
                fields,
                attendees,
                warning_reason=reason,
                on_done=self._saved,
                on_error=self._failed,
            )

    def _saved(self, record: dict[str, Any]) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        clear_draft(self.draft_file)
        self._dirty = False
        self.ctx.data_changed.emit("session")
        self.saved.emit(record)

    def _failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        show_error(self, exc, action="save the session")
