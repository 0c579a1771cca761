"""Enrol a participant into an intervention, or record that they left it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.forms.fields import CodeCombo, DateField, bad_date_message
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save
from vrp_desktop.frameworks.models import Framework
from vrp_desktop.validation.engine import validate_enrolment
from vrp_desktop.validation.findings import error


class EnrolDialog(QDialog):
    """Intervention, referral source and dates; the code lists follow the chosen framework.

    ``frameworks`` maps intervention id -> framework definition (loaded by the caller).
    """

    def __init__(
        self,
        parent: QWidget | None,
        *,
        participant: dict[str, Any],
        interventions: list[dict[str, Any]],
        frameworks: dict[str, Framework],
        intervention_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Enrol {participant['display_name']}")
        self.participant = participant
        self.frameworks = frameworks
        self.view = FindingsView(FieldMessage(self))
        self.intervention = CodeCombo([(i["id"], i["name"]) for i in interventions])
        self.referral_source = CodeCombo({})
        self.referral_date = DateField()
        self.start_date = DateField()
        today = dt.date.today()
        self.referral_date.set_date(today)
        self.start_date.set_date(today)
        form = QFormLayout()
        add_field(form, self.view, "&Intervention", self.intervention, "intervention_id")
        add_field(form, self.view, "&Referred by", self.referral_source, "referral_source")
        add_field(form, self.view, "Referral &date", self.referral_date, "referral_date")
        add_field(form, self.view, "&Start date", self.start_date, "start_date")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Enrol")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.view.summary)
        layout.addWidget(buttons)
        self.warning_reason: str | None = None
        self.intervention.currentIndexChanged.connect(self._framework_changed)
        for w in (self.referral_date, self.start_date):
            w.textChanged.connect(self.revalidate)
        self.referral_source.currentIndexChanged.connect(self.revalidate)
        if intervention_id:
            self.intervention.set_code(intervention_id)
        self._framework_changed()

    def framework(self) -> Framework | None:
        return self.frameworks.get(self.intervention.code() or "")

    def _framework_changed(self) -> None:
        fw = self.framework()
        self.referral_source.set_entries(fw.code_map("referral_sources") if fw else {})
        self.revalidate()

    def values(self) -> dict[str, Any]:
        return {
            "referral_source": self.referral_source.code(),
            "referral_date": self.referral_date.date(),
            "start_date": self.start_date.date(),
        }

    def revalidate(self) -> list[Any]:
        fw = self.framework()
        if fw is None:
            findings = [error("intervention_id", "Choose the intervention.", "required")]
        else:
            record = {
                **self.values(),
                "participant_id": self.participant["id"],
                "intervention_id": self.intervention.code(),
            }
            findings = []
            for name, label in (("referral_date", "Referral date"), ("start_date", "Start date")):
                if isinstance(record[name], str):
                    findings.append(error(name, bad_date_message(label), "type"))
                    record[name] = None
            findings += validate_enrolment(
                record, participant=self.participant, framework=fw, today=dt.date.today()
            )
        self.view.show(findings)
        return findings

    def _save(self) -> None:
        self.view.reveal_all = True
        findings = self.revalidate()
        if self.framework() is None:
            return
        ok, reason = confirm_save(self, findings, "enrolment")
        if ok:
            self.warning_reason = reason
            self.accept()


class ExitDialog(QDialog):
    """End an enrolment: the end date and the framework's exit reason."""

    def __init__(
        self, parent: QWidget | None, *, enrolment: dict[str, Any], name: str, framework: Framework
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Exit from {name}")
        self.enrolment = enrolment
        self.framework = framework
        self.view = FindingsView(FieldMessage(self))
        self.end_date = DateField()
        self.end_date.set_date(dt.date.today())
        self.exit_reason = CodeCombo(framework.code_map("exit_reasons"))
        self.exit_detail = QLineEdit()
        form = QFormLayout()
        add_field(form, self.view, "&End date", self.end_date, "end_date")
        add_field(form, self.view, "&Why they left", self.exit_reason, "exit_reason")
        add_field(form, self.view, "&Details", self.exit_detail, "exit_detail")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Record exit")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Record when and why the young person left this intervention."))
        layout.addLayout(form)
        layout.addWidget(self.view.summary)
        layout.addWidget(buttons)
        self.end_date.textChanged.connect(self.revalidate)
        self.exit_reason.currentIndexChanged.connect(self.revalidate)
        self.exit_detail.textChanged.connect(self.revalidate)

    def values(self) -> dict[str, Any]:
        return {
            "end_date": self.end_date.date(),
            "exit_reason": self.exit_reason.code(),
            "exit_detail": self.exit_detail.text().strip() or None,
        }

    def revalidate(self) -> list[Any]:
        record = {**self.enrolment, **self.values()}
        findings = []
        if isinstance(record["end_date"], str):
            findings.append(error("end_date", bad_date_message("End date"), "type"))
            record["end_date"] = None
        if record["end_date"] is None:
            findings.append(error("end_date", "Enter the date they left.", "required"))
        findings += validate_enrolment(
            record, participant=None, framework=self.framework, today=dt.date.today()
        )
        findings = [f for f in findings if f.field in ("end_date", "exit_reason", "exit_detail")]
        self.view.show(findings)
        return findings

    def _save(self) -> None:
        findings = self.revalidate()
        if any(f.severity == "error" for f in findings):
            return
        self.accept()
