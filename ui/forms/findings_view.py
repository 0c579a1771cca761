"""Validation findings shown beside the fields they concern, as the person types.

Findings come from the pure validation engine (``Finding`` objects) or from a saved record
(dicts); both are shown the same way. An error is red with a cross, a warning amber with a
triangle, so colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui import theme


def _get(finding: Any, name: str) -> str:
    if isinstance(finding, Mapping):
        return str(finding.get(name) or "")
    return str(getattr(finding, name, "") or "")


def errors_in(findings: Iterable[Any]) -> list[Any]:
    return [f for f in findings if _get(f, "severity") == "error"]


def warnings_in(findings: Iterable[Any]) -> list[Any]:
    return [f for f in findings if _get(f, "severity") == "warning"]


class FieldMessage(QLabel):
    """The line under a field; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.hide()

    def show_findings(self, findings: list[Any]) -> None:
        if not findings:
            self.clear()
            self.hide()
            return
        has_error = bool(errors_in(findings))
        mark = "✖" if has_error else "⚠"
        theme.set_tone(self, "error" if has_error else "warning")
        self.setText("\n".join(f"{mark} {_get(f, 'message')}" for f in findings))
        self.show()


class FindingsView:
    """Routes findings to the message under each field; the rest go to a summary label."""

    def __init__(self, summary: FieldMessage | None = None) -> None:
        self.summary = summary
        self.labels: dict[str, FieldMessage] = {}
        self.current: list[Any] = []
        #: fields the person has changed; "required" messages wait for these (or a save)
        self.touched: set[str] = set()
        self.reveal_all = False

    def touch(self, field: str) -> None:
        if field not in self.touched:
            self.touched.add(field)
            self.show(self.current)

    def untouch_all(self) -> None:
        """A fresh form: no "enter this" nagging until the person edits a field or saves."""
        self.touched.clear()
        self.reveal_all = False

    def _shown(self, finding: Any) -> bool:
        if self.reveal_all or _get(finding, "rule") != "required":
            return True
        return _get(finding, "field") in self.touched

    def add(self, field: str, label: FieldMessage) -> FieldMessage:
        self.labels[field] = label
        return label

    def show(self, findings: Iterable[Any]) -> None:
        self.current = list(findings)
        by_field: dict[str, list[Any]] = {name: [] for name in self.labels}
        rest: list[Any] = []
        for finding in self.current:
            if self._shown(finding):
                by_field.get(_get(finding, "field"), rest).append(finding)
        for name, label in self.labels.items():
            label.show_findings(by_field[name])
        if self.summary is not None:
            self.summary.show_findings(rest)

    def message_for(self, field: str) -> str:
        label = self.labels.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    @property
    def has_errors(self) -> bool:
        return bool(errors_in(self.current))


def add_field(
    layout: QFormLayout,
    view: FindingsView,
    label: str,
    widget: QWidget,
    field: str,
    *,
    hint: str = "",
) -> QWidget:
    """A form row: the field with its message line underneath, labelled for screen readers."""
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(widget)
    message = view.add(field, FieldMessage(holder))
    box.addWidget(message)
    widget.setAccessibleName(label.replace("&", ""))
    watch(view, widget, field)
    if hint:
        widget.setToolTip(hint)
    layout.addRow(label, holder)
    return holder


def watch(view: FindingsView, widget: QWidget, field: str) -> None:
    """Mark ``field`` touched when the person changes ``widget`` (or a field inside it)."""
    for child in [widget, *widget.findChildren(QWidget)]:
        for name in (
            "textEdited",
            "activated",
            "valueChanged",
            "dateTimeChanged",
            "itemChanged",
        ):
            signal = getattr(child, name, None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(lambda *_a, f=field: view.touch(f))
                break
        else:
            if isinstance(child, QPlainTextEdit):
                child.textChanged.connect(lambda f=field: view.touch(f))


def confirm_save(parent: QWidget, findings: list[Any], what: str) -> tuple[bool, str | None]:
    """Ask before saving a record with problems: (go ahead?, reason for the warnings).

    Errors: the record can still be kept as a draft (nothing typed is lost), but it will not be
    sent until fixed. Warnings: the framework wants a reason, which travels with the record.
    """
    errors = errors_in(findings)
    if errors:
        listed = "\n".join(f"• {_get(f, 'message')}" for f in errors)
        answer = QMessageBox.question(
            parent,
            f"Save {what} as a draft?",
            f"This {what} still has problems:\n\n{listed}\n\nSave it as a draft anyway? "
            "It will be kept, marked 'needs attention', and not sent until it is fixed.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Save, None
    warnings = warnings_in(findings)
    if warnings:
        listed = "\n".join(f"• {_get(f, 'message')}" for f in warnings)
        reason, ok = QInputDialog.getMultiLineText(
            parent,
            "Give a reason",
            f"Please check:\n\n{listed}\n\nIf this is right, say briefly why "
            "(the reason is kept with the record):",
        )
        if not ok:
            return False, None
        return True, reason.strip() or None
    return True, None
