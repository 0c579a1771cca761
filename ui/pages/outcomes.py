"""Questionnaires: pick the young person, the measure and timepoint, answer, see scores, save."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import theme
from ui.errors import show_error
from ui.forms.fields import CodeCombo, DateField, bad_date_message
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save, watch
from ui.forms.keyboard import Button
from ui.forms.participant_picker import ParticipantSearch
from ui.forms.questionnaire_form import QuestionnaireForm, ScorePanel
from ui.measure_names import abbreviation
from vrp_desktop import codes
from vrp_desktop.services import enrolments, interventions, outcomes, participants, timeline
from vrp_desktop.services.frameworks import measure as measure_definition
from vrp_desktop.validation.engine import validate_response
from vrp_desktop.validation.findings import error


def measure_choices(ws, participant_id: str, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Each measure the person's enrolments call for, newest enrolment first, in framework
    order, with the timepoint due ``on`` (today) and those already done for that enrolment."""
    on = on or dt.date.today()
    names = {i["id"]: i["name"] for i in interventions.list_interventions(ws, active_only=False)}
    done: dict[tuple[str, str], set[str]] = {}
    for r in outcomes.responses_for(ws, participant_id):
        done.setdefault((r["measure_id"], r["enrolment_id"] or ""), set()).add(r["timepoint"])
    choices = []
    for e in reversed(enrolments.enrolments_for(ws, participant_id)):
        fw = interventions.framework_for(ws, e["intervention_id"])
        for use in fw.measures:
            taken = done.get((use.measure_id, e["id"]), set())
            due = outcomes.due_timepoint(use, e, taken, on)
            window = use.window(due) if due else None
            anchor = e.get(window.anchor) if window is not None else None
            choices.append(
                {
                    "key": f"{use.measure_id}|{e['id']}",
                    "measure": measure_definition(use.measure_id),
                    "enrolment": e,
                    "framework": fw,
                    "use": use,
                    "intervention": names.get(e["intervention_id"], ""),
                    "done": sorted(taken),
                    "due": due,
                    #: today falls inside the due timepoint's window
                    "due_now": anchor is not None and (on - anchor).days in window.window_days,
                }
            )
    return choices


def questionnaire_setup(ws, participant_id: str) -> dict[str, Any]:
    """Everything the page needs for one person, in one store-thread job."""
    return {
        "participant": participants.get_participant(ws, participant_id),
        "choices": measure_choices(ws, participant_id),
    }


def preferred_choice(choices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The questionnaire to start on: the first one whose window is open today, else the first
    one with a timepoint still to do (current enrolments first)."""
    due = [c for c in choices if c["due"] is not None]
    for group in ([c for c in due if c["due_now"]], due):
        current = [c for c in group if c["enrolment"].get("end_date") is None]
        if current or group:
            return (current or group)[0]
    return choices[0] if len(choices) == 1 else None


class OutcomesPage(QWidget):
    """Pick the person (or arrive from their record), answer, see scores, save or correct.

    Every read and write goes through ``ctx.read`` / ``ctx.run_op``: the window never waits on
    the store. ``pending`` counts reads still on their way (tests wait for it to reach 0).
    """

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.person: dict[str, Any] | None = None
        self.choices: dict[str, dict[str, Any]] = {}
        self.form: QuestionnaireForm | None = None
        #: the saved questionnaire on screen (viewing it, or correcting it)
        self.opened: dict[str, Any] | None = None
        self.correcting = False
        self.dialog: QMessageBox | None = None
        self.last_saved: dict[str, Any] | None = None
        self._loading = False
        self._request = 0

        # left: who, what, when
        self.search = ParticipantSearch(ctx, page_size=50)
        self.search.table.setMaximumHeight(150)
        self.who = QLabel("Find the young person above, then press Enter.")
        self.who.setWordWrap(True)
        self.view = FindingsView(FieldMessage(self))
        self.measure = CodeCombo({}, blank="Choose the questionnaire…")
        self.measure.setSizeAdjustPolicy(
            CodeCombo.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.measure.setMinimumContentsLength(14)
        self.timepoint = CodeCombo({}, blank="Choose…")
        self.completed_on = DateField()
        self.completed_on.set_date(dt.date.today())
        setup = QFormLayout()
        setup.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # full-width fields
        add_field(setup, self.view, "&Questionnaire", self.measure, "measure_id")
        add_field(setup, self.view, "&Timepoint", self.timepoint, "timepoint")
        setup.addRow("&Completed on", self.completed_on)
        self.completed_on.setAccessibleName("Completed on")
        # long window messages wrap better outside the form layout
        self.when_message = self.view.add("completed_on", FieldMessage(self))
        watch(self.view, self.completed_on, "completed_on")
        self.save_button = Button("&Save questionnaire")
        self.save_button.setToolTip("Save (Ctrl+S, or Enter in the questions)")
        self.save_button.setEnabled(False)
        self.correct_button = Button("Co&rrect this questionnaire")
        self.correct_button.setToolTip(
            "Change the answers of this saved questionnaire: a new version is kept and sent"
        )
        self.correct_button.hide()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()

        who_box = QGroupBox("Who")
        who_layout = QVBoxLayout(who_box)
        who_layout.addWidget(self.search)
        who_layout.addWidget(self.who)
        what_box = QGroupBox("Which questionnaire")
        what_layout = QVBoxLayout(what_box)
        what_layout.addLayout(setup)
        what_layout.addWidget(self.when_message)
        what_layout.addWidget(self.view.summary)
        what_layout.addWidget(self.save_button)
        what_layout.addWidget(self.correct_button)

        self.recent = QTreeWidget()
        self.recent.setHeaderLabels(["Date", "Who", "Questionnaire"])
        self.recent.setRootIsDecorated(False)
        self.recent.setAccessibleName("Recent questionnaires")
        self.recent.setToolTip("Press Enter or double-click to open one (to view or correct it)")
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.setTextElideMode(Qt.TextElideMode.ElideRight)
        recent_header = self.recent.header()
        recent_header.setStretchLastSection(False)
        recent_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        recent_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        recent_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        recent_box = QGroupBox("Recent questionnaires")
        QVBoxLayout(recent_box).addWidget(self.recent)

        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(who_box)
        left.addWidget(what_box, 1)
        left.addWidget(recent_box)
        recent_box.setMaximumHeight(190)

        # centre: the questions; right: scores
        self.form_stack = QStackedWidget()
        self.empty = QLabel(
            "Choose a young person and a questionnaire to start.\n\n"
            "Then type the number of each answer: the form moves on by itself."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.form_stack.addWidget(self.empty)
        self.scores = ScorePanel()
        self.scores.setMinimumWidth(200)
        # at 1280×720 the scores' long notes took width the recent list needed (names and
        # questionnaires were cut to "…"); the notes wrap in 250 pixels just as well
        self.scores.setMaximumWidth(250)

        layout = QHBoxLayout(self)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMaximumWidth(320)
        left_widget.setMinimumWidth(300)
        centre = QVBoxLayout()
        centre.addWidget(self.banner)
        centre.addWidget(self.form_stack, 1)
        layout.addWidget(left_widget)
        layout.addLayout(centre, 1)
        layout.addWidget(self.scores)

        self.search.picked.connect(self.choose_participant)
        self.measure.currentIndexChanged.connect(self._measure_changed)
        self.timepoint.currentIndexChanged.connect(self.revalidate)
        self.completed_on.textChanged.connect(self.revalidate)
        self.save_button.clicked.connect(lambda: self.save())
        self.correct_button.clicked.connect(lambda: self.start_correction())
        self.recent.itemActivated.connect(
            lambda item: self.open_record(item.data(0, Qt.ItemDataRole.UserRole))
        )
        QShortcut(
            QKeySequence.StandardKey.Save,
            self,
            lambda: self.save(),
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self._stale = False
        ctx.data_changed.connect(self._data_changed)
        self.refresh_recent()

    def _data_changed(self, entity: str) -> None:
        if entity in ("outcome_response", "participant", "enrolment"):
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh_recent()
            self.search.run()

    # -- unsaved work ----------------------------------------------------------------------
    def has_unsaved(self) -> bool:
        """Answers typed that are not saved yet (a new questionnaire or a correction)."""
        return self.form is not None and not self.form.read_only and self.form.dirty

    def _confirm_leave(self, proceed: Callable[[], None]) -> None:
        """Run ``proceed`` now, or after asking Save / Discard / Cancel if answers would go."""
        if not self.has_unsaved():
            proceed()
            return
        who = self.person["display_name"] if self.person else "this person"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved answers",
            f"The answers typed for {who} are not saved yet. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        self.dialog = box

        def finished(_result: int) -> None:
            clicked = box.standardButton(box.clickedButton()) if box.clickedButton() else None
            self.dialog = None
            if clicked == QMessageBox.StandardButton.Save:
                self.save(then=proceed)
            elif clicked == QMessageBox.StandardButton.Discard:
                proceed()
            elif self.form is not None:
                self.form.setFocus()

        box.finished.connect(finished)
        box.open()

    # -- choosing --------------------------------------------------------------------------
    def choose_participant(self, row: dict[str, Any]) -> None:
        """Start on this person (asks first if answers for someone else are not saved)."""
        self._confirm_leave(lambda: self.load_person(row["id"]))

    def load_person(self, participant_id: str, then: Callable[[], None] | None = None) -> None:
        self._request += 1
        request = self._request

        def done(data: dict[str, Any]) -> None:
            if request == self._request:
                self._person_loaded(data)
                if then is not None:
                    then()

        self.ctx.read(
            questionnaire_setup,
            participant_id,
            on_done=done,
            on_error=lambda exc: show_error(self, exc, action="open this participant"),
        )

    def _clear(self) -> None:
        """Nothing left from the last person or the last save: no answers, scores or findings."""
        self.opened = None
        self.correcting = False
        self.correct_button.hide()
        self.save_button.setText("&Save questionnaire")
        self._set_form(None)
        self.view.untouch_all()
        self.view.show([])
        self.completed_on.set_date(dt.date.today())

    def _person_loaded(self, data: dict[str, Any]) -> None:
        row, found = data["participant"], data["choices"]
        self._loading = True
        self._clear()
        self.banner.hide()
        self.person = row
        self.choices = {c["key"]: c for c in found}
        multi = len({c["intervention"] for c in found}) > 1
        # short names (SDQ, SWEMWBS): the full one is cut off in a 260-pixel column; it shows
        # as the item's tooltip and above the scores
        self.measure.set_entries(
            [
                (
                    c["key"],
                    abbreviation(c["measure"].name)
                    + (f" ({c['intervention']})" if multi else "")
                    + (f" · {codes.TIMEPOINTS[c['due']].lower()} due" if c["due"] else ""),
                )
                for c in found
            ],
            blank="Choose the questionnaire…",
        )
        for c in found:
            index = self.measure.findData(c["key"])
            if index >= 0:
                self.measure.setItemData(index, c["measure"].name, Qt.ItemDataRole.ToolTipRole)
        self.measure.set_code(None)
        self._loading = False
        self.measure.setToolTip("")
        if found:
            self.who.setText(f"<b>{row['display_name']}</b> · {row['reference']}")
            preferred = preferred_choice(found)
            self.measure.set_code(preferred["key"] if preferred else None)
            if self.form is not None and self.timepoint.code():
                self.form.setFocus()
            else:
                self.measure.setFocus()
        else:
            self.who.setText(
                f"<b>{row['display_name']}</b> isn't enrolled in an intervention that uses a "
                "questionnaire. Enrol them on the Participants page first."
            )
            self._measure_changed()

    def choice(self) -> dict[str, Any] | None:
        return self.choices.get(self.measure.code() or "")

    def _measure_changed(self) -> None:
        c = self.choice()
        if c is None:
            self.timepoint.set_entries({}, blank="Choose…")
            self._set_form(None)
        else:
            self.timepoint.set_entries(
                [(w.timepoint, codes.TIMEPOINTS[w.timepoint]) for w in c["use"].timepoints],
                blank="Choose…",
            )
            self.timepoint.set_code(c["due"])
            self.measure.setToolTip(self.measure.currentText())
            if self.form is None or self.form.measure.id != c["measure"].id:
                self._set_form(QuestionnaireForm(c["measure"], self.form_stack))
        self.revalidate()

    def _set_form(self, form: QuestionnaireForm | None) -> None:
        if self.form is not None:
            self.form_stack.removeWidget(self.form)
            self.form.deleteLater()
        self.form = form
        if form is None:
            self.form_stack.setCurrentWidget(self.empty)
            self.scores.clear()
            self.save_button.setEnabled(False)
            return
        self.form_stack.addWidget(form)
        self.form_stack.setCurrentWidget(form)
        form.changed.connect(self._answers_changed)
        form.submitted.connect(lambda: self.save())
        QWidget.setTabOrder(self.completed_on, form)
        QWidget.setTabOrder(form, self.save_button)
        self.scores.title.setText(f"<b>Scores: {form.measure.name}</b>")
        self._answers_changed()

    def _answers_changed(self) -> None:
        if self.form is not None:
            self.scores.update_scores(self.form.measure, self.form.answers)
            self.scores.title.setText(f"<b>Scores: {self.form.measure.name}</b>")
        self.revalidate()

    # -- checking --------------------------------------------------------------------------
    def findings(self) -> list[Any]:
        c = self.choice()
        if self.person is None:
            return [error("participant_id", "Choose the young person first.", "required")]
        if c is None or self.form is None:
            return [error("measure_id", "Choose the questionnaire.", "required")]
        completed = self.completed_on.date()
        found = []
        if isinstance(completed, str):
            found.append(error("completed_on", bad_date_message("Completed on"), "type"))
            completed = None
        record = {
            "participant_id": self.person["id"],
            "enrolment_id": c["enrolment"]["id"],
            "measure_id": c["measure"].id,
            "timepoint": self.timepoint.code(),
            "completed_on": completed,
            "answers": list(self.form.answers),
        }
        found += validate_response(
            record,
            measure=c["measure"],
            framework=c["framework"],
            enrolment=c["enrolment"],
            today=dt.date.today(),
        )
        if self.form.unanswered() and not self.view.reveal_all:
            # still answering: "too many blank" would only nag; the score panel shows progress
            found = [f for f in found if f.rule != "missing_items"]
        return found

    def revalidate(self) -> list[Any]:
        if self._loading:
            return []
        findings = self.findings()
        self.view.show(findings if self.form is not None else [])
        self.save_button.setEnabled(self.form is not None and not self.form.read_only)
        return findings

    # -- saving ----------------------------------------------------------------------------
    def save(self, then: Callable[[], None] | None = None) -> None:
        """Save the new questionnaire (or the correction); ``then`` runs after it is saved."""
        if self.form is None or self.person is None or self.form.read_only:
            return
        if not self.save_button.isEnabled():
            return  # a save is already on its way
        self.view.reveal_all = True
        findings = self.revalidate()
        if any(getattr(f, "field", "") == "timepoint" for f in findings):
            self.timepoint.setFocus()
            return
        blank = self.form.unanswered()
        if blank and len(blank) < len(self.form.answers):
            answer = QMessageBox.question(
                self,
                "Some questions not answered",
                f"Questions {', '.join(map(str, blank))} have no answer. Save them as missing?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        elif blank:
            self.banner.setText("✖ Answer the questions first (type the number of each answer).")
            theme.set_tone(self.banner, "error")
            self.banner.show()
            self.form.setFocus()
            return
        ok, reason = confirm_save(self, findings, "questionnaire")
        if not ok:
            return
        c = self.choice()
        self.save_button.setEnabled(False)

        def saved(record: dict[str, Any]) -> None:
            self._saved(record)
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            show_error(self, exc, action="save the questionnaire")

        if self.correcting and self.opened is not None:
            self.ctx.run_op(
                outcomes.correct_response,
                self.opened["id"],
                list(self.form.answers),
                timepoint=self.timepoint.code(),
                completed_on=self.completed_on.date(),
                warning_reason=reason,
                changes=("outcome_response",),
                on_done=saved,
                on_error=failed,
            )
            return
        self.ctx.run_op(
            outcomes.record_response,
            self.person["id"],
            c["measure"].id,
            self.timepoint.code(),
            list(self.form.answers),
            completed_on=self.completed_on.date(),
            enrolment_id=c["enrolment"]["id"],
            warning_reason=reason,
            changes=("outcome_response",),
            on_done=saved,
            on_error=failed,
        )

    def _saved(self, record: dict[str, Any]) -> None:
        measure = measure_definition(record["measure_id"])
        main = measure.score_ids()[0] if not measure.composites else measure.composites[0].id
        value = record["scores"].get(main)
        band = record["bands"].get(main)
        summary = f"{measure.score_label(main)} {value:g}" if value is not None else ""
        if band:
            summary += f" ({band})"
        what = "Correction" if record["version"] > 1 else "Questionnaire"
        state = (
            "saved, but it needs attention before it can be sent"
            if record["sync_state"] == "draft"
            else "saved"
        )
        self.banner.setText(f"✔ {what} {state}. {summary}")
        theme.set_tone(self.banner, "error" if record["sync_state"] == "draft" else None)
        self.banner.show()
        self.last_saved = record
        self._clear()
        self.measure.set_code(None)
        self.refresh_recent()
        if self.person is not None:
            # the same person's next questionnaire: the list shows what is due now
            keep = self.banner.text(), self.banner.property("tone")
            self.load_person(self.person["id"], then=lambda: self._restore_banner(*keep))
        self.search.edit.setFocus()

    def _restore_banner(self, text: str, tone: str | None) -> None:
        self.banner.setText(text)
        theme.set_tone(self.banner, tone)
        self.banner.show()

    def refresh_recent(self) -> None:
        self.ctx.read(timeline.recent_responses, limit=30, on_done=self._fill_recent)

    def _fill_recent(self, rows: list[dict[str, Any]]) -> None:
        self.recent.clear()
        for r in rows:
            item = QTreeWidgetItem(
                [
                    f"{r['completed_on']:%d/%m/%Y}",
                    r["participant"],
                    f"{abbreviation(r['measure'])} "
                    f"({codes.TIMEPOINTS.get(r['timepoint'], r['timepoint']).lower()})",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, r["id"])
            item.setToolTip(
                2, f"{r['measure']} ({codes.TIMEPOINTS.get(r['timepoint'], r['timepoint'])})"
            )
            item.setToolTip(1, r["participant"])
            self.recent.addTopLevelItem(item)
        if not rows:
            self.recent.addTopLevelItem(QTreeWidgetItem(["", "None yet", ""]))

    # -- opening a record --------------------------------------------------------------------
    def show_record(self, record_id: str | None) -> None:
        """Open a saved questionnaire to view (and correct), or start one for a participant."""
        if not record_id:
            return
        self._confirm_leave(
            lambda: self.ctx.read(
                timeline.open_target,
                record_id,
                on_done=self._target_found,
                on_error=lambda exc: show_error(self, exc, action="open this record"),
            )
        )

    def _target_found(self, target: dict[str, Any]) -> None:
        if target["kind"] == "participant":
            self.load_person(target["participant_id"])
            return
        r = target["response"]
        self.load_person(r["participant_id"], then=lambda: self._show_saved(r))

    def _show_saved(self, r: dict[str, Any]) -> None:
        key = f"{r['measure_id']}|{r['enrolment_id']}"
        if key not in self.choices:
            self.banner.setText(
                "This questionnaire's enrolment no longer uses it, so it can't be opened here."
            )
            self.banner.show()
            return
        self._loading = True
        self.measure.set_code(key)
        self._loading = False
        self._measure_changed()
        self.timepoint.set_code(r["timepoint"])
        self.completed_on.set_date(r["completed_on"])
        assert self.form is not None
        self.form.set_answers(r["answers"])
        self.form.read_only = True
        self.opened = r
        self.correct_button.show()
        self.banner.setText(
            f"Viewing a saved questionnaire (version {r['version']}). To change its answers, "
            "press Correct (Alt+R): the correction is kept as a new version and sent to the VRP."
        )
        theme.set_tone(self.banner, None)
        self.banner.show()
        self.revalidate()
        self.correct_button.setFocus()

    def start_correction(self) -> None:
        """Make the opened questionnaire editable; saving writes a new version."""
        if self.opened is None or self.form is None:
            return
        self.form.read_only = False
        self.correcting = True
        self.correct_button.hide()
        self.save_button.setText("&Save correction")
        self.banner.setText(
            "Correcting: change the answers (type over them), then save. The scores are worked "
            "out again and the old ones are kept in the audit log."
        )
        self.revalidate()
        self.form.move_to(0)
        self.form.setFocus()

    #: the main window calls ``open_record``
    open_record = show_record
