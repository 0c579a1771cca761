"""The participant form: identity (stays on this device) and shareable fields, checked as typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.forms.fields import CodeCombo, DateField, bad_date_message
from ui.forms.findings_view import FieldMessage, FindingsView, add_field, confirm_save
from vrp_desktop import codes
from vrp_desktop.validation.engine import validate_participant
from vrp_desktop.validation.findings import error


class ParticipantForm(QWidget):
    """Emits ``changed`` on every edit; ``findings()`` is the engine's verdict on what is typed."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = FindingsView(FieldMessage(self))
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.preferred_name = QLineEdit()
        self.date_of_birth = DateField()
        self.gender = CodeCombo(codes.GENDERS)
        self.ethnicity = CodeCombo(codes.ETHNICITIES)
        self.postcode = QLineEdit()
        self.postcode.setPlaceholderText("e.g. B5 4TJ (only B5 is shared)")
        self.consent_status = CodeCombo(codes.CONSENT_STATUSES, blank=None)
        self.consent_status.set_code("not_asked")
        self.consent_date = DateField()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(54)
        self.phone = QLineEdit()
        self.email = QLineEdit()

        identity = QGroupBox("Who they are (kept on this device only)")
        form = QFormLayout()
        identity_box = QVBoxLayout(identity)
        identity_box.addLayout(form)
        identity_box.addStretch(1)
        v = self.view
        add_field(form, v, "&First name", self.first_name, "first_name")
        add_field(form, v, "&Last name", self.last_name, "last_name")
        add_field(form, v, "Known as", self.preferred_name, "preferred_name")
        add_field(form, v, "&Date of birth", self.date_of_birth, "date_of_birth")
        add_field(form, v, "Address", self.address, "address")
        add_field(form, v, "Phone", self.phone, "phone")
        add_field(form, v, "Email", self.email, "email")

        shared = QGroupBox("Shared with the VRP (no names)")
        form2 = QFormLayout()
        shared_box = QVBoxLayout(shared)
        shared_box.addLayout(form2)
        shared_box.addStretch(1)
        add_field(form2, v, "&Gender", self.gender, "gender")
        add_field(form2, v, "&Ethnicity", self.ethnicity, "ethnicity")
        add_field(
            form2,
            v,
            "&Postcode",
            self.postcode,
            "postcode_district",
            hint="Type the full postcode or just its first part; only the first part is kept.",
        )
        add_field(form2, v, "&Consent", self.consent_status, "consent_status")
        add_field(form2, v, "Consent date", self.consent_date, "consent_date")

        columns = QHBoxLayout()
        columns.addWidget(identity, 1)
        columns.addWidget(shared, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(columns)
        layout.addWidget(self.view.summary)

        for edit in (
            self.first_name,
            self.last_name,
            self.preferred_name,
            self.date_of_birth,
            self.postcode,
            self.consent_date,
            self.phone,
            self.email,
        ):
            edit.textChanged.connect(self._edited)
        self.address.textChanged.connect(self._edited)
        for combo in (self.gender, self.ethnicity, self.consent_status):
            combo.currentIndexChanged.connect(self._edited)
        self._touched = False

    def _edited(self) -> None:
        self._touched = True
        self.revalidate()
        self.changed.emit()

    def revalidate(self) -> list[Any]:
        findings = self.findings()
        self.view.show(findings)
        return findings

    # -- values --------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """What the participants service takes (postcode as typed; it keeps only the district)."""

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        return {
            "first_name": text(self.first_name),
            "last_name": text(self.last_name),
            "preferred_name": text(self.preferred_name),
            "date_of_birth": self.date_of_birth.date(),
            "gender": self.gender.code(),
            "ethnicity": self.ethnicity.code(),
            "postcode": text(self.postcode),
            "consent_status": self.consent_status.code(),
            "consent_date": self.consent_date.date(),
            "address": self.address.toPlainText().strip() or None,
            "phone": text(self.phone),
            "email": text(self.email),
        }

    def set_values(self, p: dict[str, Any]) -> None:
        self.first_name.setText(p.get("first_name") or "")
        self.last_name.setText(p.get("last_name") or "")
        self.preferred_name.setText(p.get("preferred_name") or "")
        self.date_of_birth.set_date(p.get("date_of_birth"))
        self.gender.set_code(p.get("gender"))
        self.ethnicity.set_code(p.get("ethnicity"))
        self.postcode.setText(p.get("postcode_district") or "")
        self.consent_status.set_code(p.get("consent_status") or "not_asked")
        self.consent_date.set_date(p.get("consent_date"))
        self.address.setPlainText(p.get("address") or "")
        self.phone.setText(p.get("phone") or "")
        self.email.setText(p.get("email") or "")
        self._touched = False
        self.view.untouch_all()
        self.view.show([])

    def findings(self) -> list[Any]:
        values = self.values()
        raw_postcode = values.pop("postcode")
        district = codes.postcode_district(raw_postcode) if raw_postcode else None
        record = {**values, "postcode_district": district}
        extra = []
        if raw_postcode and district is None:
            extra.append(
                error(
                    "postcode_district",
                    "That isn't a UK postcode. Type it like B5 4TJ, or just B5, or leave it blank.",
                    "format",
                )
            )
        for name, label in (("date_of_birth", "Date of birth"), ("consent_date", "Consent date")):
            if isinstance(record[name], str):
                extra.append(error(name, bad_date_message(label), "type"))
                record[name] = None
        return extra + validate_participant(record, today=dt.date.today())

    def changed_values(self, before: dict[str, Any]) -> dict[str, Any]:
        """Only the fields that differ from ``before`` (for an edit)."""
        now = self.values()
        result = {}
        for key, value in now.items():
            old = before.get("postcode_district" if key == "postcode" else key)
            if key == "postcode":
                if (codes.postcode_district(value) if value else None) != old:
                    result[key] = value
            elif value != old:
                result[key] = value
        return result


class ParticipantDialog(QDialog):
    """New or edit. Calls ``save(values, warning_reason)`` and closes when it returns."""

    def __init__(self, parent: QWidget | None, *, title: str, participant: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.participant = participant
        self.form = ParticipantForm(self)
        if participant:
            self.form.set_values(participant)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if participant:
            layout.addWidget(QLabel(f"Reference <b>{participant['reference']}</b>"))
        layout.addWidget(self.form)
        layout.addWidget(self.buttons)
        self.warning_reason: str | None = None
        self.form.first_name.setFocus()

    def _save(self) -> None:
        self.form.view.reveal_all = True
        findings = self.form.revalidate()
        ok, reason = confirm_save(self, findings, "participant")
        if not ok:
            return
        self.warning_reason = reason
        self.accept()

    def values(self) -> dict[str, Any]:
        """Fields for the service; a date that is not a date cannot be stored, so it is left out."""
        if self.participant:
            values = self.form.changed_values(self.participant)
        else:
            values = {k: v for k, v in self.form.values().items() if v is not None}
        return {
            k: v
            for k, v in values.items()
            if not (k.endswith("date") or k == "date_of_birth") or not isinstance(v, str)
        }
