"""Set up or change an intervention: what it is, how it usually runs, and who leads it.

Used by the set-up wizard ("What do you run?"), Settings → Interventions and the Sync page
after joining a VRP. Pickers show the framework's labels (never codes) and follow the chosen
framework. The framework choices are read on the store thread; Save submits one operation
(``changes=("intervention",)``) and the dialog closes when it is stored, or shows the service's
message (what is wrong, what to do) and stays open. Every label's letter focuses its field;
Esc cancels.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ui.context import AppContext
from ui.errors import message_for
from ui.forms.fields import ClampedLabel, CodeCombo
from ui.forms.keyboard import Button
from vrp_desktop.services import interventions as service

#: (label with its mnemonic, attribute) in form and Tab order
ROWS = (
    ("&Name:", "name"),
    ("&Framework:", "framework"),
    ("&Delivery:", "delivery"),
    ("Usual da&y:", "weekday"),
    ("Usual t&ime:", "time"),
    ("Usual &length:", "minutes"),
    ("&Setting:", "setting"),
    ("Tie&r:", "tier"),
    ("&Area:", "area"),
    ("Usual &mode:", "mode"),
    ("Usual l&ocation:", "location"),
    ("Lead &worker:", "lead"),
)
SAVE_TEXT = "Sa&ve"


def describe(row: dict[str, Any], framework_names: dict[str, str] | None = None) -> str:
    """One line a person reads: 'Sports-based diversion · Group · Fridays 18:00 · 90 min'."""
    from vrp_desktop import codes

    parts = [(framework_names or {}).get(row.get("framework_id", ""), row.get("framework_id"))]
    if row.get("delivery"):
        parts.append(codes.SESSION_TYPES.get(row["delivery"], row["delivery"]))
    when = []
    if row.get("usual_weekday") is not None:
        when.append(f"{service.WEEKDAY_LABELS[row['usual_weekday']]}s")
    if row.get("usual_time"):
        when.append(row["usual_time"])
    if when:
        parts.append(" ".join(when))
    if row.get("usual_minutes"):
        parts.append(f"{row['usual_minutes']} min")
    return " · ".join(str(p) for p in parts if p)


class InterventionDialog(QDialog):
    """Add (``intervention=None``) or edit one intervention.

    ``framework_id`` preselects the framework of a new one (the Sync page's offer after joining
    a VRP). After Save, ``saved`` holds the stored intervention as a dict.
    """

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        intervention: dict[str, Any] | None = None,
        *,
        framework_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.intervention = intervention
        self.saved: dict[str, Any] | None = None
        self.choices: dict[str, dict[str, Any]] = {}
        self._wanted_framework = (intervention or {}).get("framework_id") or framework_id
        self._saving = False
        editing = intervention is not None
        self.setWindowTitle(f"Change {intervention['name']}" if editing else "Add an intervention")
        self.setObjectName("intervention_dialog")
        self.setMinimumWidth(560)

        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Friday football, Ladywood")
        self.name.setMaxLength(200)
        self.framework = CodeCombo({}, blank="Loading frameworks…", parent=self)
        self.framework.setEnabled(False)
        self.framework_hint = ClampedLabel(3, self)  # three lines whatever the description
        self.framework_hint.setProperty("role", "hint")
        self.framework_hint.setObjectName("intervention_framework_hint")
        self.delivery = CodeCombo({}, blank="Not set", parent=self)
        self.weekday = CodeCombo(
            list(enumerate(service.WEEKDAY_LABELS)), blank="No usual day", parent=self
        )
        self.time = QLineEdit(self)
        self.time.setPlaceholderText("HH:MM, e.g. 18:00")
        self.time.setMaxLength(5)
        self.time.setMaximumWidth(160)
        self.minutes = QSpinBox(self)
        self.minutes.setRange(0, 24 * 60)
        self.minutes.setSingleStep(15)
        self.minutes.setSuffix(" minutes")
        self.minutes.setSpecialValueText("Not set")
        self.minutes.setMaximumWidth(160)
        self.setting = CodeCombo({}, parent=self)
        self.tier = CodeCombo({}, blank=None, parent=self)
        self.area = QLineEdit(self)
        self.area.setPlaceholderText("e.g. Ladywood (optional)")
        self.area.setMaxLength(100)
        self.mode = CodeCombo({}, blank="Not set", parent=self)
        self.location = CodeCombo({}, blank="Not set", parent=self)
        self.lead = QLineEdit(self)
        self.lead.setPlaceholderText("optional; stays on this computer")
        self.lead.setMaxLength(100)
        for _text, attribute in ROWS:
            getattr(self, attribute).setObjectName(f"intervention_{attribute}")

        form = QFormLayout()
        # pickers as wide as the text fields, so framework labels are never cut short
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for text, attribute in ROWS:
            widget = getattr(self, attribute)
            label = QLabel(text, self)
            label.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", "").rstrip(":"))
            self.labels[attribute] = label
            form.addRow(label, widget)
            if attribute == "framework":
                form.addRow("", self.framework_hint)

        intro = QLabel(
            "The usual day, time and length fill in the session form for you; change them any "
            "time. Codes come from the framework, so the VRP reads them the same way.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.error = QLabel(self)
        self.error.setObjectName("intervention_error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = Button(SAVE_TEXT)  # Alt+V saves at once: keys typed next are kept
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("intervention_save")
        self.save_button.setEnabled(False)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        order = [getattr(self, attribute) for _text, attribute in ROWS]
        order += [self.save_button, self.cancel_button]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

        self.framework.currentIndexChanged.connect(self._framework_changed)
        self.name.textChanged.connect(self._update)
        self.setting.currentIndexChanged.connect(self._update)
        self.name.setFocus()
        ctx.read(service.framework_choices, on_done=self._loaded, on_error=self._failed)

    # -- filling in -----------------------------------------------------------------------------
    def _loaded(self, choices: list[dict[str, Any]]) -> None:
        if not isValid(self):  # closed and deleted while the store answered
            return
        self.choices = {c["id"]: c for c in choices}
        self.framework.set_entries(
            [(c["id"], c["name"]) for c in choices], blank=None if self.intervention else "Choose…"
        )
        if self._wanted_framework in self.choices:
            self.framework.set_code(self._wanted_framework)
        elif len(choices) == 1:
            self.framework.set_code(choices[0]["id"])
        self.framework.setEnabled(self.intervention is None)
        self._framework_changed()
        if self.intervention is not None:
            self._show(self.intervention)
        self._update()

    def _show(self, row: dict[str, Any]) -> None:
        self.name.setText(row.get("name") or "")
        self.delivery.set_code(row.get("delivery"))
        self.weekday.set_code(row.get("usual_weekday"))
        self.time.setText(row.get("usual_time") or "")
        self.minutes.setValue(row.get("usual_minutes") or 0)
        self.setting.set_code(row.get("setting"))
        self.tier.set_code(row.get("tier"))
        self.area.setText(row.get("area") or "")
        self.mode.set_code(row.get("usual_mode"))
        self.location.set_code(row.get("usual_location_type"))
        self.lead.setText(row.get("lead_staff") or "")

    def chosen(self) -> dict[str, Any] | None:
        return self.choices.get(self.framework.code() or "")

    def _framework_changed(self, _index: int = 0) -> None:
        fw = self.chosen()
        labels = fw["labels"] if fw else {}
        self.delivery.set_entries(labels.get("delivery", {}), blank="Not set")
        self.setting.set_entries(labels.get("setting", {}))
        self.tier.set_entries(labels.get("tier", {}), blank=None)
        self.mode.set_entries(labels.get("usual_mode", {}), blank="Not set")
        self.location.set_entries(labels.get("usual_location_type", {}), blank="Not set")
        if fw is not None:
            if self.setting.code() is None and len(labels["setting"]) == 1:
                self.setting.set_code(next(iter(labels["setting"])))
            if self.mode.code() is None and len(labels["usual_mode"]) == 1:
                self.mode.set_code(next(iter(labels["usual_mode"])))
            low, high = fw["duration_minutes"]
            self.minutes.setToolTip(f"{fw['name']} sessions last {low} to {high} minutes.")
            self.framework_hint.set_full_text(fw["description"])
        else:
            self.framework_hint.set_full_text(
                "Choose the VRP framework this intervention reports under."
            )
        self._update()

    def _update(self, *_args: Any) -> None:
        ready = bool(self.name.text().strip() and self.chosen() and self.setting.code())
        self.save_button.setEnabled(ready and not self._saving)

    def values(self) -> dict[str, Any]:
        """What the form says, as the service's fields ('' and 'Not set' are no value)."""
        return {
            "name": self.name.text().strip(),
            "tier": self.tier.code(),
            "setting": self.setting.code(),
            "area": self.area.text().strip() or None,
            "delivery": self.delivery.code(),
            "usual_weekday": self.weekday.code(),
            "usual_time": self.time.text().strip() or None,
            "usual_minutes": self.minutes.value() or None,
            "usual_mode": self.mode.code(),
            "usual_location_type": self.location.code(),
            "lead_staff": self.lead.text().strip() or None,
        }

    # -- saving ---------------------------------------------------------------------------------
    def save(self) -> None:
        if not self.save_button.isEnabled():
            self._say(self._missing())
            return
        values = self.values()
        if self.intervention is None:
            fn, args = service.create_intervention, ()
            kwargs = {"framework_id": self.framework.code(), **values}
        else:
            changes = {k: v for k, v in values.items() if self.intervention.get(k) != v}
            if not changes:
                self.saved = self.intervention
                self.accept()
                return
            fn, args, kwargs = service.edit_intervention, (self.intervention["id"], changes), {}
        self._saving = True
        self._update()
        self.error.hide()
        self.ctx.run_op(
            fn, *args, changes=("intervention",), on_done=self._saved, on_error=self._failed,
            **kwargs,
        )  # fmt: skip

    def _missing(self) -> str:
        if not self.name.text().strip():
            self.name.setFocus()
            return "Give the intervention a name (Alt+N)."
        if not self.chosen():
            self.framework.setFocus()
            return "Choose the framework it reports under (Alt+F)."
        self.setting.setFocus()
        return "Choose the setting it runs in (Alt+S)."

    def _saved(self, row: dict[str, Any]) -> None:
        if not isValid(self):  # closed and deleted while the store answered
            return
        self._saving = False
        self.saved = row
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not isValid(self):  # closed and deleted while the store answered
            return
        self._saving = False
        self._say(message_for(exc))
        self._update()

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
