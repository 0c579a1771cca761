"""Questionnaires: pick the young person, the measure and timepoint, answer, see scores, save."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.errors import show_error
from ui.forms.fields import CodeCombo, DateField, bad_date_message
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save, watch
from ui.forms.participant_picker import ParticipantSearch
from ui.forms.questionnaire_form import QuestionnaireForm, ScorePanel
from vrp_desktop import codes
from vrp_desktop.errors import NotFound
from vrp_desktop.services import enrolments, interventions, outcomes, participants, timeline
from vrp_desktop.services.frameworks import measure as measure_definition
from vrp_desktop.validation.engine import validate_response
from vrp_desktop.validation.findings import error


def measure_choices(ws, participant_id: str) -> list[dict[str, Any]]:
    """Each measure the person's enrolments call for: (measure, enrolment, framework, use)."""
    names = {i["id"]: i["name"] for i in interventions.list_interventions(ws, active_only=False)}
    choices = []
    for e in reversed(enrolments.enrolments_for(ws, participant_id)):
        fw = interventions.framework_for(ws, e["intervention_id"])
        for use in fw.measures:
            choices.append(
                {
                    "key": f"{use.measure_id}|{e['id']}",
                    "measure": measure_definition(use.measure_id),
                    "enrolment": e,
                    "framework": fw,
                    "use": use,
                    "intervention": names.get(e["intervention_id"], ""),
                }
            )
    return choices


class OutcomesPage(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.person: dict[str, Any] | None = None
        self.choices: dict[str, dict[str, Any]] = {}
        self.form: QuestionnaireForm | None = None

        # left: who, what, when
        self.search = ParticipantSearch(ctx, page_size=50)
        self.search.table.setMaximumHeight(150)
        self.who = QLabel("Find the young person above, then press Enter.")
        self.who.setWordWrap(True)
        self.view = FindingsView(FieldMessage(self))
        self.measure = CodeCombo({}, blank="Choose the questionnaire…")
        self.timepoint = CodeCombo({}, blank="Choose…")
        self.completed_on = DateField()
        self.completed_on.set_date(dt.date.today())
        setup = QFormLayout()
        add_field(setup, self.view, "&Questionnaire", self.measure, "measure_id")
        add_field(setup, self.view, "&Timepoint", self.timepoint, "timepoint")
        setup.addRow("&Completed on", self.completed_on)
        self.completed_on.setAccessibleName("Completed on")
        # long window messages wrap better outside the form layout
        self.when_message = self.view.add("completed_on", FieldMessage(self))
        watch(self.view, self.completed_on, "completed_on")
        self.save_button = QPushButton("&Save questionnaire")
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.setEnabled(False)
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

        self.recent = QTreeWidget()
        self.recent.setHeaderLabels(["Date", "Who", "Questionnaire"])
        self.recent.setRootIsDecorated(False)
        self.recent.setAccessibleName("Recent questionnaires")
        recent_box = QGroupBox("Recent questionnaires")
        QVBoxLayout(recent_box).addWidget(self.recent)

        left = QVBoxLayout()
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
        self.scores.setMinimumWidth(260)

        layout = QHBoxLayout(self)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMaximumWidth(350)
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
        self.save_button.clicked.connect(self.save)
        self.recent.itemActivated.connect(
            lambda item: self.show_record(item.data(0, Qt.ItemDataRole.UserRole))
        )
        QShortcut(
            QKeySequence.StandardKey.Save,
            self,
            self.save,
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

    # -- choosing --------------------------------------------------------------------------
    def choose_participant(self, row: dict[str, Any]) -> None:
        self.person = row
        found = self.ctx.runner.call(measure_choices, self.ctx.ws, row["id"])
        self.choices = {c["key"]: c for c in found}
        multi = len({c["intervention"] for c in found}) > 1
        self.measure.set_entries(
            [
                (c["key"], c["measure"].name + (f" ({c['intervention']})" if multi else ""))
                for c in found
            ],
            blank="Choose the questionnaire…",
        )
        if found:
            self.who.setText(f"<b>{row['display_name']}</b> · {row['reference']}")
            if len(found) == 1:
                self.measure.setCurrentIndex(1)
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
            if self.form is None or self.form.measure.id != c["measure"].id:
                self._set_form(QuestionnaireForm(c["measure"]))
        self.revalidate()

    def _set_form(self, form: QuestionnaireForm | None) -> None:
        if self.form is not None:
            self.form_stack.removeWidget(self.form)
            self.form.deleteLater()
        self.form = form
        if form is None:
            self.form_stack.setCurrentWidget(self.empty)
            self.scores.title.setText("<b>Scores</b>")
            return
        self.form_stack.addWidget(form)
        self.form_stack.setCurrentWidget(form)
        form.changed.connect(self._answers_changed)
        QWidget.setTabOrder(self.completed_on, form)
        QWidget.setTabOrder(form, self.save_button)
        self.scores.title.setText(f"<b>Scores: {form.measure.name}</b>")
        self.scores.title.setWordWrap(True)
        self._answers_changed()

    def _answers_changed(self) -> None:
        if self.form is not None:
            self.scores.update_scores(self.form.measure, self.form.answers)
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
        findings = self.findings()
        self.view.show(findings if self.form is not None else [])
        self.save_button.setEnabled(self.form is not None and not self.form.read_only)
        return findings

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> None:
        if self.form is None or self.person is None or self.form.read_only:
            return
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
            self.banner.setStyleSheet("color: #c62828;")
            self.banner.show()
            self.form.setFocus()
            return
        ok, reason = confirm_save(self, findings, "questionnaire")
        if not ok:
            return
        c = self.choice()
        self.save_button.setEnabled(False)
        self.ctx.runner.submit(
            outcomes.record_response,
            self.ctx.ws,
            self.person["id"],
            c["measure"].id,
            self.timepoint.code(),
            list(self.form.answers),
            completed_on=self.completed_on.date(),
            enrolment_id=c["enrolment"]["id"],
            warning_reason=reason,
            on_done=self._saved,
            on_error=lambda exc: (
                self.save_button.setEnabled(True),
                show_error(self, exc, action="save the questionnaire"),
            ),
        )

    def _saved(self, record: dict[str, Any]) -> None:
        self.ctx.data_changed.emit("outcome_response")
        measure = measure_definition(record["measure_id"])
        main = measure.score_ids()[0] if not measure.composites else measure.composites[0].id
        value = record["scores"].get(main)
        band = record["bands"].get(main)
        summary = f"{measure.score_label(main)} {value:g}" if value is not None else ""
        if band:
            summary += f" ({band})"
        state = (
            "saved, but it needs attention before it can be sent"
            if record["sync_state"] == "draft"
            else "saved"
        )
        self.banner.setText(f"✔ Questionnaire {state}. {summary}")
        self.banner.setStyleSheet("color: #c62828;" if record["sync_state"] == "draft" else "")
        self.banner.show()
        self.last_saved = record
        self._set_form(None)
        self.measure.set_code(None)
        self.refresh_recent()
        self.search.edit.setFocus()

    def refresh_recent(self) -> None:
        self.recent.clear()
        rows = self.ctx.runner.call(timeline.recent_responses, self.ctx.ws, limit=30)
        for r in rows:
            item = QTreeWidgetItem(
                [
                    f"{r['completed_on']:%d/%m/%Y}",
                    r["participant"],
                    f"{r['measure']} ({codes.TIMEPOINTS.get(r['timepoint'], r['timepoint'])})",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, r["id"])
            self.recent.addTopLevelItem(item)
        if not rows:
            self.recent.addTopLevelItem(QTreeWidgetItem(["", "None yet", ""]))

    # -- opening a record --------------------------------------------------------------------
    def show_record(self, record_id: str | None) -> None:
        """Open a saved questionnaire to view, or start one for a participant id."""
        if not record_id:
            return
        try:
            r = self.ctx.runner.call(timeline.response_detail, self.ctx.ws, record_id)
        except NotFound:
            try:
                p = self.ctx.runner.call(participants.get_participant, self.ctx.ws, record_id)
            except NotFound as exc:
                show_error(self, exc, action="open this record")
                return
            self.choose_participant(p)
            return
        p = self.ctx.runner.call(participants.get_participant, self.ctx.ws, r["participant_id"])
        self.choose_participant(p)
        self.measure.set_code(f"{r['measure_id']}|{r['enrolment_id']}")
        self.timepoint.set_code(r["timepoint"])
        self.completed_on.set_date(r["completed_on"])
        if self.form is not None:
            self.form.set_answers(r["answers"])
            self.form.read_only = True
        self.banner.setText(
            "Viewing a saved questionnaire. To correct it, record it again and ask your manager "
            "to delete the wrong one."
        )
        self.banner.setStyleSheet("")
        self.banner.show()
        self.revalidate()

    #: the main window calls ``open_record``; the brief named it ``show_record``
    open_record = show_record
