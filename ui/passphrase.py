"""A new-passphrase field pair with a live strength meter (set-up, recovery, change).

The meter uses ``vrp_desktop.crypto.strength.estimate``: it rewards length and says what would
help, in words. The pair is acceptable when the estimate accepts it and both fields match.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QProgressBar, QWidget

from vrp_desktop.crypto import strength

_COLOURS = ("#c0392b", "#d35400", "#b7950b", "#2e8b57", "#1e7d4f")


class PassphraseFields(QWidget):
    """New passphrase + confirmation + meter. ``changed`` fires on every keystroke."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, label: str = "New passphrase") -> None:
        super().__init__(parent)
        self._user_inputs: tuple[str, ...] = ()
        self.first = QLineEdit(self)
        self.first.setObjectName("new_passphrase")
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName(label)
        self.first.setPlaceholderText("A few unrelated words, e.g. 'river lamp orange bicycle'")
        self.second = QLineEdit(self)
        self.second.setObjectName("confirm_passphrase")
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName("Type the passphrase again")
        self.meter = QProgressBar(self)
        self.meter.setObjectName("strength")
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Passphrase strength")
        self.verdict = QLabel(self)
        self.verdict.setObjectName("strength_label")
        self.verdict.setWordWrap(True)
        self.hints = QLabel(self)
        self.hints.setObjectName("strength_hints")
        self.hints.setWordWrap(True)
        self.hints.setProperty("role", "hint")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(f"&{label}:", self.first)
        form.addRow("", self.meter)
        form.addRow("", self.verdict)
        form.addRow("", self.hints)
        form.addRow("T&ype it again:", self.second)
        self.first.textChanged.connect(self._update)
        self.second.textChanged.connect(self._update)
        self._update()

    def set_user_inputs(self, names: Iterable[str]) -> None:
        """Names the passphrase should not contain (username, provider name)."""
        self._user_inputs = tuple(n for n in names if n)
        self._update()

    def passphrase(self) -> str:
        return self.first.text()

    def problem(self) -> str:
        """Why the pair cannot be used yet ("" when it can)."""
        text = self.first.text()
        if not text:
            return "Choose a passphrase."
        result = strength.estimate(text, self._user_inputs)
        if not result.acceptable:
            return result.hints[0] if result.hints else "Choose a longer passphrase."
        if self.second.text() != text:
            return "The two passphrases do not match yet."
        return ""

    def is_acceptable(self) -> bool:
        return not self.problem()

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()

    def _update(self) -> None:
        text = self.first.text()
        if not text:
            self.meter.setValue(0)
            self.verdict.setText("Strength: nothing typed yet")
            self.hints.setText(
                "Longer is stronger: three or four unrelated words are easy to remember."
            )
        else:
            result = strength.estimate(text, self._user_inputs)
            self.meter.setValue(result.score)
            colour = _COLOURS[result.score]
            self.meter.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
            usable = "can be used" if result.acceptable else "too weak to use"
            self.verdict.setText(f"Strength: {result.label} ({usable})")
            self.hints.setText(" ".join(result.hints))
        if self.second.text() and self.second.text() != text:
            self.hints.setText((self.hints.text() + " The two passphrases do not match.").strip())
        self.changed.emit()
