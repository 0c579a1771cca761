"""One form for 1:1, group and outreach sessions, built from the intervention's framework.

Fields follow the framework's code lists and duration range; the register sits beside them. A
group's register is its roster: everyone enrolled on the session's date, each present or absent.
Everything is checked as it is typed with the same engine the batch builder uses, a session
that looks like one already logged is flagged before it is saved, and the form state (codes,
numbers and ids, never the notes) is autosaved every few seconds.

Every store job goes through ``ctx.read`` / ``ctx.run_op``: the window never waits on the store.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.errors import show_error
from ui.forms.enrolment_form import EnrolDialog
from ui.forms.fields import CheckList, CodeCombo
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save
from ui.forms.keyboard import Button, give_focus
from ui.forms.participant_form import ParticipantDialog
from ui.forms.participant_picker import ParticipantPicker
from ui.forms.register_panel import RegisterPanel
from ui.forms.session_dialogs import DuplicateDialog, ask_and_delete
from ui.forms.session_draft import clear_draft, draft_path, load_draft, save_draft
from ui.forms.when_field import WhenEdit
from ui.models.register_model import COL_PRESENT, RegisterModel, RegisterRow
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


def _row_from(person: dict[str, Any], *, ticked: bool, source: str, status: str = "attended"):
    return RegisterRow(
        person["id"],
        person["reference"],
        person["name"],
        ticked=ticked,
        status=status,
        enrolled=person.get("enrolled"),
        age=person.get("age"),
        source=source,
    )


class SessionForm(QWidget):
    """Emits ``saved(record)`` after a save, ``deleted(id)`` after a deletion and ``closed()``
    when the person leaves the form."""

    saved = Signal(dict)
    deleted = Signal(str)
    closed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id: str | None = None
        self.dialog = None
        self._setups: dict[str, dict[str, Any]] = {}
        self._spans: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = {}
        self._duplicates: list[dict[str, Any]] = []
        self._duplicate_checked: tuple | None = None
        self._duplicate_generation = 0
        self._roster_key: tuple | None = None
        self._generation = 0
        self._loading = False
        self._dirty = False
        self._saving = False
        self.draft_file = draft_path(ctx.ws.workspace_id, ctx.ws.user.username)

        self.view = FindingsView(FieldMessage(self))
        self.heading = QLabel("<h2>Log a session</h2>")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.discard_button = Button("Dis&card draft")
        self.discard_button.hide()
        # a new workspace has nothing to log against yet: say so, and offer the form
        self.no_interventions = QLabel(
            "No interventions yet. A session is logged against something you run (e.g. a "
            "weekly football group or 1:1 mentoring): add it first. You can also add and change "
            "them in Settings → Interventions."
        )
        self.no_interventions.setObjectName("no_interventions")
        self.no_interventions.setWordWrap(True)
        theme.set_tone(self.no_interventions, "warning")
        self.add_intervention_button = Button("Add an intervention…")
        self.add_intervention_button.setObjectName("add_intervention_from_session")
        self.no_interventions.hide()
        self.add_intervention_button.hide()
        self.delete_button = Button("&Delete…")
        self.delete_button.setToolTip("Delete this session (logged twice, wrong group…)")
        self.delete_button.hide()

        self.intervention = CodeCombo({})
        self.repeat_button = Button("&Repeat last session")
        self.repeat_button.setToolTip(
            "Copy the last session of this intervention (time, activities) to its latest run "
            "on or before now, with everyone enrolled ticked as attended: the keys then go to "
            "the register, so type an absentee's first letter and press Space (or 0)"
        )
        self.when = WhenEdit()
        self.when.setDateTime(now_rounded())
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
        self.activities.setMinimumHeight(96)
        self.activities.setToolTip("Up/Down to move, Space to tick")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(52)
        self.notes.setToolTip(NOTES_TIP)
        self.notes.setPlaceholderText("Optional. Stays on this device; not autosaved.")

        pick = QWidget()
        pick_row = QHBoxLayout(pick)
        pick_row.setContentsMargins(0, 0, 0, 0)
        pick_row.addWidget(self.intervention, 1)
        pick_row.addWidget(self.repeat_button)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._field(form, "&Intervention", pick, "intervention_id", self.intervention)
        self._field(form, "&When", self.when, "starts_at")
        self._field(form, "&Length", self.duration, "duration_minutes")
        self._field(form, "&Type", self.session_type, "session_type")
        self._field(form, "&Mode", self.mode, "mode")
        self._field(form, "L&ocation", self.location_type, "location_type")
        self._field(form, "Stat&us", self.status, "status")
        self._field(form, "Sta&ff", self.staff, "staff")
        self._field(form, "&Activities", self.activities, "activities")
        self._field(form, "&Notes", self.notes, "notes", hint=NOTES_TIP)
        self.intervention.setAccessibleName("Intervention")

        self.register = RegisterModel(self)
        self.register_panel = RegisterPanel(self.register)
        self.view.add("attendees", self.register_panel.message)

        self.save_button = Button("&Save session")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.cancel_button = Button("Close")
        self.cancel_button.setToolTip(
            "Back to the list (Esc); an unsaved new session stays as a draft"
        )

        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.discard_button)
        empty_row = QHBoxLayout()
        empty_row.addWidget(self.no_interventions, 1)
        empty_row.addWidget(self.add_intervention_button)
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
        bottom.addWidget(self.delete_button)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(banner_row)
        layout.addLayout(empty_row)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)

        panel = self.register_panel
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
            panel.view,
            panel.walk_in_button,
            panel.new_button,
            panel.enrol_button,
            self.save_button,
            self.cancel_button,
            self.delete_button,
        ]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

        self.intervention.currentIndexChanged.connect(self._intervention_changed)
        self.when.dateTimeChanged.connect(self._when_changed)
        self.duration.valueChanged.connect(self._edited)
        self.session_type.currentIndexChanged.connect(self._type_changed)
        for combo in (self.mode, self.location_type, self.status):
            combo.currentIndexChanged.connect(self._edited)
        self.staff.textChanged.connect(self._edited)
        self.activities.itemChanged.connect(self._edited)
        self.notes.textChanged.connect(self._edited)
        self.register.changed.connect(self._edited)
        self.repeat_button.clicked.connect(self.repeat_last)
        panel.add_walk_in.connect(self.add_walk_in)
        panel.new_participant.connect(self.new_participant)
        panel.enrol_current.connect(self.enrol_current)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.close_form)
        self.discard_button.clicked.connect(self.discard_draft)
        self.add_intervention_button.clicked.connect(self.add_intervention)
        self.delete_button.clicked.connect(self.ask_delete)
        shortcut = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence.StandardKey.Save, self, self.save, context=shortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close_form, context=shortcut)

        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self.reload_interventions()

    def _field(
        self,
        form: QFormLayout,
        label: str,
        holder: QWidget,
        field: str,
        buddy: QWidget | None = None,
        *,
        hint: str = "",
    ) -> None:
        """A form row whose label's letter focuses the input itself, not its container."""
        row = add_field(form, self.view, label, holder, field, hint=hint)
        form.labelForField(row).setBuddy(buddy or holder)

    # -- interventions and their frameworks ----------------------------------------------
    def reload_interventions(self, then: Callable[[], None] | None = None) -> None:
        def loaded(rows: list[dict[str, Any]]) -> None:
            loading, self._loading = self._loading, True
            self.intervention.set_entries([(i["id"], i["name"]) for i in rows])
            self._loading = loading
            self.no_interventions.setVisible(not rows)
            self.add_intervention_button.setVisible(not rows)
            if then is not None:
                then()

        self.ctx.read(interventions.list_interventions, on_done=loaded)

    def add_intervention(self):
        """The intervention form, from a form with nothing to choose; once it is stored the
        change report reloads the list here."""
        from ui.forms.intervention_form import InterventionDialog

        dialog = self.dialog = InterventionDialog(self.ctx, self)

        def added() -> None:
            if dialog.saved:
                chosen = dialog.saved["id"]
                self.reload_interventions(then=lambda: self.intervention.set_code(chosen))

        dialog.accepted.connect(added)
        dialog.open()
        return dialog

    def framework(self) -> Framework | None:
        setup = self._setups.get(self.intervention.code() or "")
        return setup["framework"] if setup else None

    def _with_setup(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the chosen intervention's framework and usual values are here."""
        iid = self.intervention.code()
        if not iid or iid in self._setups:
            self._apply_setup()
            then()
            return

        def loaded(setup: dict[str, Any]) -> None:
            self._setups[iid] = setup
            if self.intervention.code() == iid:
                self._apply_setup()
                then()

        self.ctx.read(
            sessions.form_setup,
            iid,
            on_done=loaded,
            on_error=lambda exc: show_error(self, exc, action="open the intervention"),
        )

    def _apply_setup(self) -> None:
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

    def _apply_defaults(self) -> None:
        """Type, mode, location and length from the intervention's usual values, else its
        last session (the person can still change them)."""
        setup = self._setups.get(self.intervention.code() or "")
        if not setup:
            return
        loading, self._loading = self._loading, True
        defaults = setup["defaults"]
        for combo, key in (
            (self.session_type, "session_type"),
            (self.mode, "mode"),
            (self.location_type, "location_type"),
        ):
            if defaults.get(key):
                combo.set_code(defaults[key])
        if defaults.get("duration_minutes"):
            self.duration.setValue(int(defaults["duration_minutes"]))
        self._loading = loading

    def _intervention_changed(self) -> None:
        if self._loading:
            return

        def ready() -> None:
            self._apply_defaults()
            self._roster_key = None
            self.load_roster()
            self._edited()

        self._with_setup(ready)

    def _type_changed(self) -> None:
        if self._loading:
            return
        self.load_roster()
        self._edited()

    def _when_changed(self, _value: object = None) -> None:
        if self._loading:
            return
        self.load_roster()
        self._edited()

    # -- state ---------------------------------------------------------------------------
    def starts_at(self) -> dt.datetime | None:
        return self.when.value()

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

    def _day(self) -> dt.date:
        start = self.starts_at()
        return start.date() if start else dt.date.today()

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
            found = [
                error(
                    "intervention_id", "Choose the intervention this session was for.", "required"
                )
            ]
            if self.when.problem:  # a mistyped date is said at once, intervention or not
                found.append(error("starts_at", self.when.problem, "type"))
            return found
        record = {"intervention_id": self.intervention.code(), **self.fields()}
        day = self._day()
        contexts = []
        for a in self.register.attendees():
            row = self.register.rows()[self.register.row_of(a["participant_id"])]
            enrolled = self._enrolled(row.participant_id, day)
            contexts.append(
                AttendeeContext(
                    participant_id=row.participant_id,
                    reference=row.reference,
                    status=a["status"],
                    enrolled=enrolled is not False,
                )
            )
        found = validate_session(record, framework=fw, attendees=contexts, now=dt.datetime.now())
        if self.when.problem:
            found = [f for f in found if f.field != "starts_at"]
            found.append(error("starts_at", self.when.problem, "type"))
        return found + sessions.duplicate_findings(self._duplicates)

    def revalidate(self) -> list[Any]:
        findings = self.findings()
        self.view.show(findings)
        day = self._day()
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
        self._check_duplicates_if_changed()

    # -- register ------------------------------------------------------------------------
    def _remember(self, people: list[dict[str, Any]]) -> None:
        for person in people:
            self._spans[person["id"]] = person["spans"]

    def _add_people(self, people: list[dict[str, Any]], *, ticked: bool) -> None:
        self._remember(people)
        for person in people:
            self.register.add(_row_from(person, ticked=ticked, source="walk_in"))
        self._edited()

    def load_roster(self, *, force: bool = False) -> None:
        """A group's register is everyone enrolled on the session's date: fetch it when the
        intervention, the type or the date changes, keeping the ticks already made."""
        iid = self.intervention.code()
        kind = self.session_type.code()
        key = (iid, self._day(), kind)
        if key == self._roster_key and not force:
            return
        self._roster_key = key
        self._generation += 1
        if not iid or kind != "group":
            kept = [r for r in self.register.rows() if r.ticked or r.source != "roster"]
            if len(kept) != self.register.rowCount():
                self.register.set_rows(kept)
            return
        generation = self._generation
        keep = [r.participant_id for r in self.register.rows() if r.source != "roster"]
        self.ctx.read(
            sessions.roster,
            iid,
            self._day(),
            include=keep,
            on_done=lambda people: self._roster_loaded(generation, people),
        )

    def _roster_loaded(self, generation: int, people: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        self._remember(people)
        current = {r.participant_id: r for r in self.register.rows()}
        rows = []
        for person in people:
            row = current.pop(person["id"], None)
            if row is None:
                row = _row_from(person, ticked=False, source="roster")
            else:
                row.enrolled, row.age = person["enrolled"], person["age"]
                if person["enrolled"] and row.source == "walk_in":
                    row.source = "roster"
            rows.append(row)
        # people off the roster on this date stay only if ticked or added by hand
        rows += [r for r in current.values() if r.ticked or r.source != "roster"]
        self.register.set_rows(rows)
        self._edited()

    def repeat_last(self) -> None:
        iid = self.intervention.code()
        if not iid:
            self._say("Choose the intervention first, then repeat its last session.")
            give_focus(self.intervention)
            return

        # The register takes the keys from now on: a name's first letter typed while the
        # store answers must not land in the Intervention box (and pick another one).
        self.register_panel.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

        def ask() -> None:
            self.ctx.read(
                sessions.propose_repeat,
                iid,
                on_done=self._repeat_loaded,
                on_error=lambda exc: show_error(self, exc, action="repeat the last session"),
            )

        self._with_setup(ask)

    def _repeat_loaded(self, plan: dict[str, Any] | None) -> None:
        if plan is None:
            self._say("This intervention has no earlier session to repeat.")
            give_focus(self.when)
            return
        view = self.register_panel.view
        current = self.register_panel.current_row()
        keep = self.register.rows()[current].participant_id if current >= 0 else None
        fields = plan["fields"]
        self._loading = True
        self.when.setDateTime(fields["starts_at"])
        self.duration.setValue(fields["duration_minutes"] or 0)
        self.session_type.set_code(fields["session_type"])
        self.mode.set_code(fields["mode"])
        self.location_type.set_code(fields["location_type"])
        self.status.set_code("delivered")
        self.staff.setText(", ".join(fields["staff"] or [self.ctx.ws.user.username]))
        self.activities.set_codes(fields["activities"] or [])
        people = plan["people"]
        self._remember(people)
        self.register.set_rows(
            [
                _row_from(p, ticked=p["enrolled"], source="roster" if p["enrolled"] else "walk_in")
                for p in people
            ]
        )
        self._roster_key = (self.intervention.code(), self._day(), self.session_type.code())
        self._loading = False
        self._edited()
        ticked = self.register.ticked_count()
        self._say(
            f"Copied from the last session to {fields['starts_at']:%a %d/%m %H:%M}, with the "
            f"{ticked} people enrolled ticked. Type a name to jump to it; Space marks them "
            "absent.",
            warning=False,
        )
        give_focus(view)
        if self.register.rowCount():
            # keep the person the cursor was on if a name was typed while the plan arrived
            row = max(self.register.row_of(keep), 0) if keep else 0
            view.setCurrentIndex(self.register.index(row, COL_PRESENT))

    def add_walk_in(self) -> None:
        iid = self.intervention.code()
        self.dialog = picker = ParticipantPicker(
            self.ctx,
            self,
            title="Add someone to the register",
            hint="Type a few letters of a name; Enter ticks the first match. People enrolled "
            "in this intervention are listed first.",
            intervention_id=iid,
            day=self._day(),
        )

        def finished(result: int) -> None:
            if not (result and picker.chosen):
                give_focus(self.register_panel.walk_in_button)
                return
            chosen = picker.chosen

            def loaded(people: list[dict[str, Any]]) -> None:
                self._add_people(people, ticked=True)
                self._focus_row(chosen["id"])
                if iid and chosen.get("state") != "enrolled":
                    self._offer_enrol(chosen["id"], asked=chosen)

            self.ctx.read(
                sessions.people_on_register, [chosen["id"]], iid, self._day(), on_done=loaded
            )

        picker.finished.connect(finished)
        picker.open()

    def new_participant(self) -> None:
        self.dialog = dialog = ParticipantDialog(self, title="New young person")

        def finished(result: int) -> None:
            if result:
                self.ctx.run_op(
                    participants.create_participant,
                    dialog.values(),
                    warning_reason=dialog.warning_reason,
                    changes=("participant",),
                    on_done=self._created,
                    on_error=lambda exc: show_error(self, exc, action="add the participant"),
                )

        dialog.finished.connect(finished)
        dialog.open()

    def _created(self, p: dict[str, Any]) -> None:
        self._add_people(
            [
                {
                    "id": p["id"],
                    "reference": p["reference"],
                    "name": p["display_name"],
                    "spans": [],
                    "enrolled": False if self.intervention.code() else None,
                    "age": None,
                }
            ],
            ticked=True,
        )
        self._focus_row(p["id"])
        if self.intervention.code():
            self._offer_enrol(p["id"], asked=p)

    def _focus_row(self, pid: str) -> None:
        """Back on the register after a dialog, with the cursor on ``pid``'s row."""
        view = self.register_panel.view
        give_focus(view)
        row = self.register.row_of(pid)
        if row >= 0:
            view.setCurrentIndex(self.register.index(row, COL_PRESENT))

    def _offer_enrol(self, pid: str, asked: dict[str, Any] | None = None) -> None:
        """Someone ticked who is not enrolled: one question, then the enrolment form."""
        name = asked["display_name"] if asked else "They"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Enrol them now?",
            f"{name} is ticked, but needs an enrolment in {self.intervention.currentText()} "
            "for this session to count. Enrol them now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        self.dialog = box
        box.finished.connect(
            lambda r: self._enrol(pid) if r == QMessageBox.StandardButton.Yes else None
        )
        box.open()

    def enrol_current(self) -> None:
        """Enrol the register's current row (or its first not-enrolled one) from the date."""
        rows = self.register.rows()
        current = self.register_panel.current_row()
        if 0 <= current < len(rows) and rows[current].enrolled is False:
            self._enrol(rows[current].participant_id)
            return
        for r in rows:
            if r.enrolled is False:
                self._enrol(r.participant_id)
                return
        self._say("Everyone on the register is enrolled.", warning=False)

    def _enrol(self, pid: str) -> None:
        iid = self.intervention.code()
        fw = self.framework()
        if not iid or fw is None:
            return
        self.ctx.read(participants.get_participant, pid, on_done=lambda p: self._open_enrol(p))

    def _open_enrol(self, p: dict[str, Any]) -> None:
        iid = self.intervention.code()
        dialog = EnrolDialog(
            self,
            participant=p,
            interventions=[{"id": iid, "name": self.intervention.currentText()}],
            frameworks={iid: self.framework()},
            intervention_id=iid,
        )
        day = self._day()
        dialog.referral_date.set_date(day)
        dialog.start_date.set_date(day)
        self.dialog = dialog

        def finished(result: int) -> None:
            if result:
                self.ctx.run_op(
                    enrolments.enrol,
                    p["id"],
                    iid,
                    dialog.values(),
                    warning_reason=dialog.warning_reason,
                    changes=("enrolment",),
                    on_done=lambda _e: self._refresh_spans([p["id"]]),
                    on_error=lambda exc: show_error(self, exc, action="enrol them"),
                )

        dialog.finished.connect(finished)
        dialog.open()

    def _refresh_spans(self, ids: list[str]) -> None:
        def loaded(people: list[dict[str, Any]]) -> None:
            self._remember(people)
            for person in people:
                row = self.register.row_of(person["id"])
                if row >= 0 and person["enrolled"]:
                    self.register.rows()[row].source = "roster"
            self._edited()
            if ids:
                self._focus_row(ids[0])

        self.ctx.read(
            sessions.people_on_register,
            ids,
            self.intervention.code(),
            self._day(),
            on_done=loaded,
        )

    def _say(self, text: str, *, warning: bool = True) -> None:
        self.banner.setText(text)
        theme.set_tone(self.banner, "warning" if warning else None)
        self.banner.show()

    # -- duplicates ----------------------------------------------------------------------
    def _present_ids(self) -> list[str]:
        return [
            a["participant_id"]
            for a in self.register.attendees()
            if a["status"] in codes.PRESENT_STATUSES
        ]

    def _duplicate_key(self) -> tuple:
        return (
            self.intervention.code(),
            self.starts_at(),
            self.duration.value(),
            self.status.code(),
            frozenset(self._present_ids()),
        )

    def _check_duplicates_if_changed(self) -> None:
        """Re-ask only when what makes a duplicate changed (not on every keystroke)."""
        key = self._duplicate_key()
        if key != self._duplicate_checked:
            self.check_duplicates()

    def check_duplicates(self, then: Callable[[list[dict[str, Any]]], None] | None = None):
        """Ask the store whether this session repeats one already logged; the answer shows
        as a finding on the form (and, when saving, as a question)."""
        self._duplicate_checked = self._duplicate_key()
        self._duplicate_generation += 1
        generation = self._duplicate_generation
        iid, start = self.intervention.code(), self.starts_at()
        if not iid or start is None or self.status.code() == "cancelled":
            self._duplicates_found([], then)
            return
        self.ctx.read(
            sessions.find_duplicates,
            iid,
            start,
            self.duration.value() or None,
            self._present_ids(),
            exclude_id=self.session_id,
            on_done=lambda found: self._duplicates_found(found, then, generation),
            on_error=self._failed if then else None,
        )

    def _duplicates_found(self, found: list[dict[str, Any]], then=None, generation=None) -> None:
        if generation is not None and generation != self._duplicate_generation and not then:
            return  # a newer question is on its way
        if found != self._duplicates:
            self._duplicates = found
            self.revalidate()
        if then is not None:
            then(found)

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
        give_focus(self.intervention)

    def reset(self) -> None:
        self._loading = True
        self._generation += 1
        self.session_id = None
        self.heading.setText("<h2>Log a session</h2>")
        self.intervention.set_code(None)
        # a fresh form starts a fresh type-ahead: the letter typed for the last session's
        # intervention (within Qt's input interval) must not stick to the one typed now
        self.intervention.view().keyboardSearch("")
        self._apply_setup()
        self.when.setDateTime(now_rounded())
        self.duration.setValue(60)
        self.status.set_code("delivered")
        self.staff.setText(self.ctx.ws.user.username)
        self.notes.clear()
        self.register.set_rows([])
        self._spans.clear()
        self._duplicates = []
        self._duplicate_checked = None
        self._roster_key = None
        self.banner.hide()
        self.discard_button.hide()
        self.delete_button.hide()
        self._loading = False
        self._dirty = False
        self.view.untouch_all()
        self.view.show([])

    def state(self) -> dict[str, Any]:
        fields = self.fields()
        fields.pop("notes")
        start = fields["starts_at"]
        fields["starts_at"] = start.isoformat() if start else None
        return {
            **fields,
            "session_id": self.session_id,
            "intervention_id": self.intervention.code(),
            "register": [
                {
                    "participant_id": r.participant_id,
                    "ticked": r.ticked,
                    "status": r.status,
                    "source": r.source,
                }
                for r in self.register.rows()
            ],
            "saved_at": dt.datetime.now().strftime("%H:%M on %d/%m/%Y"),
        }

    def apply_state(self, state: dict[str, Any], then: Callable[[], None] | None = None) -> None:
        """Fill the form from a draft or a saved session (the framework and the people arrive
        from the store thread; ``then`` runs when everything is in place)."""
        self._loading = True
        self.session_id = state.get("session_id")
        self.intervention.set_code(state.get("intervention_id"))
        self._loading = False
        self._dirty = False
        generation = self._generation = self._generation + 1

        def fill() -> None:
            if generation != self._generation:
                return
            self._loading = True
            start = state.get("starts_at")
            if isinstance(start, str):
                start = dt.datetime.fromisoformat(start)
            if start:
                self.when.setDateTime(start)
            self.duration.setValue(int(state.get("duration_minutes") or 0))
            self.session_type.set_code(state.get("session_type"))
            self.mode.set_code(state.get("mode"))
            self.location_type.set_code(state.get("location_type"))
            self.status.set_code(state.get("status") or "delivered")
            self.staff.setText(", ".join(state.get("staff") or [self.ctx.ws.user.username]))
            self.activities.set_codes(state.get("activities") or [])
            if state.get("notes"):
                self.notes.setPlainText(state["notes"])
            self._loading = False
            register = state.get("register") or []
            self.ctx.read(
                sessions.people_on_register,
                [r["participant_id"] for r in register],
                self.intervention.code(),
                self._day(),
                on_done=lambda people: rows_loaded(register, people),
            )

        def rows_loaded(register: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
            if generation != self._generation:
                return
            self._remember(people)
            found = {p["id"]: p for p in people}
            rows = []
            for r in register:
                person = found.get(r["participant_id"])
                if person is not None:
                    source = r.get("source") or ("roster" if person["enrolled"] else "saved")
                    rows.append(
                        _row_from(
                            person,
                            ticked=bool(r["ticked"]),
                            source=source,
                            status=r.get("status") if r.get("status") != "absent" else "attended",
                        )
                    )
            self._loading = True
            self.register.set_rows(rows)
            self._loading = False
            self._roster_key = None
            self.load_roster()  # a group's roster on that date, around what was saved
            self._dirty = False
            self.revalidate()
            self.check_duplicates()
            if then is not None:
                then()

        self._with_setup(fill)

    def load_session(self, session_id: str, then: Callable[[], None] | None = None) -> None:
        """Open a saved session for editing (its register as saved, absences unticked)."""

        def loaded(s: dict[str, Any]) -> None:
            self.reset()

            def done() -> None:
                self.session_id = session_id
                self.heading.setText("<h2>Session</h2>")
                self.delete_button.show()
                if s["sync_state"] == "draft":
                    self._say("This session needs attention: fix what is marked, then save.")
                if then is not None:
                    then()

            self.apply_state(
                {
                    **s,
                    "session_id": session_id,
                    "register": [
                        {
                            "participant_id": a["participant_id"],
                            "ticked": a["status"] != "absent",
                            "status": a["status"],
                            "source": "saved",
                        }
                        for a in s["attendees"]
                    ],
                },
                then=done,
            )

        self.ctx.read(
            sessions.get_session,
            session_id,
            on_done=loaded,
            on_error=lambda exc: show_error(self, exc, action="open the session"),
        )

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
        """Esc or Close: back to the list, keeping an unsaved session as the draft."""
        if self._saving:
            return
        self.autosave()
        self.closed.emit()

    # -- deleting ------------------------------------------------------------------------
    def ask_delete(self) -> None:
        if not self.session_id:
            return
        start = self.starts_at()
        what = f"the session of {start:%a %d/%m/%Y %H:%M}" if start else "this session"
        self.dialog = ask_and_delete(self, self.ctx, self.session_id, what, self._deleted)

    def _deleted(self, session_id: str) -> None:
        draft = load_draft(self.draft_file)
        if draft and draft.get("session_id") == session_id:
            clear_draft(self.draft_file)
        self._dirty = False
        self.reset()
        self.deleted.emit(session_id)

    # -- saving --------------------------------------------------------------------------
    def save(self) -> None:
        """Check, then look for a duplicate on the store thread, then save."""
        if self._saving:
            return
        self.view.reveal_all = True
        self.revalidate()
        if self.framework() is None:
            give_focus(self.intervention)
            return
        if self.starts_at() is None or self.when.problem:
            give_focus(self.when)
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self.check_duplicates(then=self._checked)

    def _checked(self, duplicates: list[dict[str, Any]]) -> None:
        findings = self.revalidate()
        others = [f for f in findings if f.rule != "duplicate_session"]
        if not duplicates:
            self._confirm(others, None)
            return
        self.dialog = dialog = DuplicateDialog(self, duplicates)

        def finished(result: int) -> None:
            if result:
                self._confirm(others, dialog.reason_text())
            else:
                self._back()

        dialog.finished.connect(finished)
        dialog.open()

    def _back(self) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        give_focus(self.when)

    def _confirm(self, findings: list[Any], duplicate_reason: str | None) -> None:
        ok, reason = confirm_save(self, findings, "session")
        if not ok:
            self._back()
            return
        reason = "; ".join(r for r in (duplicate_reason, reason) if r) or None
        fields = self.fields()
        attendees = self.register.attendees()
        common = {
            "warning_reason": reason,
            "changes": ("session", "attendance"),
            "on_done": self._saved,
            "on_error": self._failed,
        }
        if self.session_id:
            self.ctx.run_op(sessions.update_session, self.session_id, fields, attendees, **common)
        else:
            self.ctx.run_op(
                sessions.log_session, self.intervention.code(), fields, attendees, **common
            )

    def _saved(self, record: dict[str, Any]) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        clear_draft(self.draft_file)
        self._dirty = False
        self.saved.emit(record)

    def _failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        show_error(self, exc, action="save the session")
