"""Small input widgets the generated forms share: code pickers and typed dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QListWidget, QListWidgetItem

from vrp_desktop.errors import VrpError
from vrp_desktop.services.common import parse_date


class ClampedLabel(QLabel):
    """Wrapped text kept to ``lines`` lines at whatever width the label has, cut at a word with
    "…" (the whole text is the tooltip). Its height is fixed, so a form neither jumps when the
    text arrives nor leaves a gap under a short text that a wrapped label's size guess makes."""

    def __init__(self, lines: int = 3, parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self._lines = lines
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fits(self, text: str) -> bool:
        box = QRect(0, 0, max(self.contentsRect().width(), 1), 10_000)
        used = self.fontMetrics().boundingRect(box, Qt.TextFlag.TextWordWrap, text)
        return used.height() <= self.fontMetrics().lineSpacing() * self._lines

    def _fit(self) -> None:
        if self._fits(self._full):
            self.setText(self._full)
            return
        words = self._full.split(" ")
        low, high = 0, len(words)  # the longest run of whole words that fits with "…"
        while low < high:
            middle = (low + high + 1) // 2
            if self._fits(" ".join(words[:middle]) + "…"):
                low = middle
            else:
                high = middle - 1
        self.setText(" ".join(words[:low]) + "…")


class CodeCombo(QComboBox):
    """A drop-down of code -> label; type the first letters to pick, blank means 'not chosen'."""

    def __init__(
        self,
        entries: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        blank: str | None = "Choose…",
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.set_entries(entries, blank=blank)

    def set_entries(self, entries, *, blank: str | None = "Choose…") -> None:
        current = self.code()
        self.blockSignals(True)
        self.clear()
        if blank is not None:
            self.addItem(blank, None)
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        for code, label in pairs:
            self.addItem(label, code)
        self.blockSignals(False)
        self.set_code(current)

    def code(self) -> str | None:
        return self.currentData()

    def set_code(self, code: str | None) -> None:
        index = self.findData(code)
        self.setCurrentIndex(max(index, 0))


class DateField(QLineEdit):
    """A date typed as dd/mm/yyyy (fast from the keyboard, and may be left blank)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("dd/mm/yyyy")
        self.setMaximumWidth(140)

    def date(self) -> dt.date | str | None:
        """The date, None when blank, or the raw text when it is not a date (shown as an error)."""
        text = self.text().strip()
        if not text:
            return None
        try:
            return parse_date(text, "date")
        except VrpError:
            return text

    def set_date(self, value: dt.date | None) -> None:
        self.setText(value.strftime("%d/%m/%Y") if value else "")


def bad_date_message(label: str) -> str:
    return f"{label} isn't a date. Type it as day/month/year, for example 05/03/2011."


class CheckList(QListWidget):
    """Checkable codes (activities): arrow keys move, Space ticks."""

    def __init__(self, entries: Mapping[str, str], parent=None) -> None:
        super().__init__(parent)
        self.set_entries(entries)

    def set_entries(self, entries: Mapping[str, str]) -> None:
        ticked = set(self.codes())
        blocked = self.blockSignals(True)
        self.clear()
        for code, label in entries.items():
            item = QListWidgetItem(label, self)
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if code in ticked else Qt.CheckState.Unchecked)
        self.blockSignals(blocked)
        if self.count():
            self.setCurrentRow(0)

    def codes(self) -> list[str]:
        return [
            self.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_codes(self, codes: Iterable[str]) -> None:
        wanted = set(codes)
        for i in range(self.count()):
            item = self.item(i)
            item.setCheckState(
                Qt.CheckState.Checked
                if item.data(Qt.ItemDataRole.UserRole) in wanted
                else Qt.CheckState.Unchecked
            )
