"""A questionnaire built from its measure definition, answered fast from the keyboard.

Number keys answer the current question and move on, Backspace clears it, ``-`` marks it as
missing (left blank on purpose), Up/Down move. The live score panel beside it uses the same
scoring code as every import and return.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from vrp_desktop.frameworks.models import MeasureDefinition
from vrp_desktop.services.outcomes import preview_scores

_CHECKED = (
    "QPushButton:checked { background: palette(highlight); color: palette(highlighted-text);"
    " border: 1px solid palette(highlight); border-radius: 3px; padding: 4px 8px; }"
)
CURRENT_STYLE = (
    "QFrame#item { border: 2px solid palette(highlight); border-radius: 4px; }" + _CHECKED
)
OTHER_STYLE = "QFrame#item { border: 2px solid transparent; }" + _CHECKED


class ItemRow(QFrame):
    """One question: its number (always visible), its wrapped text, and the answers below.

    The answers sit under the text rather than beside it so a row never needs more width than
    the narrowest window gives it (1280×720 with the score panel open): no sideways scrolling.
    """

    def __init__(self, item, options, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("item")
        self.number = QLabel(f"<b>{item.number}.</b>")
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.number.setMinimumWidth(self.number.fontMetrics().horizontalAdvance("888.") + 4)
        text = f"{item.code} — {item.hint}"
        if item.text:
            text += f"<br>{item.text}"
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state = QLabel()
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        answers = QHBoxLayout()
        answers.setContentsMargins(0, 0, 0, 0)
        answers.setSpacing(4)
        for option in options:
            button = QPushButton(f"{option.value} {option.label}")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(f"Question {item.number}: {option.label}")
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            self.group.addButton(button, option.value)
            answers.addWidget(button)
        answers.addWidget(self.state)
        answers.addStretch(1)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 6, 2)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.number, 0, 0, 2, 1)
        grid.addWidget(self.label, 0, 1)
        grid.addLayout(answers, 1, 1)
        grid.setColumnStretch(1, 1)
        self.setStyleSheet(OTHER_STYLE)

    def show_answer(self, value: int | None, missing: bool) -> None:
        for button in self.group.buttons():
            button.setChecked(self.group.id(button) == value)
        self.state.setText("missing" if missing else "")


class QuestionnaireForm(QWidget):
    """``answers`` has one entry per item (None = not answered); ``changed`` after each edit."""

    changed = Signal()
    #: Enter or Return: the person is done and wants to save
    submitted = Signal()

    def __init__(self, measure: MeasureDefinition, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure = measure
        self.answers: list[int | None] = [None] * len(measure.items)
        self.missing: set[int] = set()
        self.current = 0
        self.read_only = False
        #: answers typed or clicked since the form was filled (unsaved work)
        self.dirty = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"{measure.name} questions")
        values = ", ".join(f"{o.value} {o.label.lower()}" for o in measure.response_options)
        self.setToolTip(
            f"Type a number to answer and move on ({values}); Backspace clears; "
            "- marks a question missing; Up/Down move; Enter or Ctrl+S saves."
        )
        self.rows: list[ItemRow] = []
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        for i, item in enumerate(measure.items):
            row = ItemRow(item, measure.response_options, inner)
            row.group.idClicked.connect(lambda value, i=i: self._clicked(i, value))
            grid.addWidget(row, i, 0)
            self.rows.append(row)
        grid.setRowStretch(len(measure.items), 1)
        self.scroll = QScrollArea()
        # as needed, so a row that ever got too wide would show (and a test would see it)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setWidget(inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.help = QLabel(self.toolTip())
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if measure.licence_note:
            note = QLabel(measure.licence_note)
            note.setWordWrap(True)
            note.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
            layout.addWidget(note)
        layout.addWidget(self.help)
        layout.addWidget(self.scroll, 1)
        self._show_current()

    # -- answering -----------------------------------------------------------------------
    def answer(self, index: int, value: int | None, *, missing: bool = False) -> None:
        if self.read_only:
            return
        self.answers[index] = value
        if missing:
            self.missing.add(index)
        else:
            self.missing.discard(index)
        self.rows[index].show_answer(value, index in self.missing)
        self.dirty = True
        self.changed.emit()

    def _clicked(self, index: int, value: int) -> None:
        self.move_to(index)
        self.answer(index, None if self.answers[index] == value else value)
        self.setFocus()

    def move_to(self, index: int) -> None:
        self.current = max(0, min(index, len(self.rows) - 1))
        self._show_current()

    def _show_current(self) -> None:
        for i, row in enumerate(self.rows):
            row.setStyleSheet(CURRENT_STYLE if i == self.current else OTHER_STYLE)
        self.scroll.ensureWidgetVisible(self.rows[self.current], 0, 40)

    def keyPressEvent(self, event) -> None:
        key, text = event.key(), event.text()
        allowed = self.measure.allowed_values
        if text.isdigit() and int(text) in allowed:
            self.answer(self.current, int(text))
            self.move_to(self.current + 1)
        elif key == Qt.Key.Key_Backspace:
            self.answer(self.current, None)
        elif text == "-":
            self.answer(self.current, None, missing=True)
            self.move_to(self.current + 1)
        elif key == Qt.Key.Key_Down:
            self.move_to(self.current + 1)
        elif key == Qt.Key.Key_Up:
            self.move_to(self.current - 1)
        elif key == Qt.Key.Key_Home:
            self.move_to(0)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def set_answers(self, answers: list[int | None]) -> None:
        """Fill in saved answers (a saved blank shows as missing); the form is then clean."""
        self.missing.clear()
        for i, value in enumerate(answers[: len(self.rows)]):
            self.answers[i] = value
            if value is None:
                self.missing.add(i)
            self.rows[i].show_answer(value, value is None)
        self.dirty = False
        self.changed.emit()

    def has_answers(self) -> bool:
        return any(a is not None for a in self.answers) or bool(self.missing)

    def unanswered(self) -> list[int]:
        """Item numbers neither answered nor marked missing."""
        return [i + 1 for i, a in enumerate(self.answers) if a is None and i not in self.missing]


class ScorePanel(QWidget):
    """Live scores, bands and notes on prorating and missing items."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Scores</b>")
        self.grid = QGridLayout()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.setMaximumWidth(280)
        self.title.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        self.grid.setColumnStretch(0, 1)
        layout.addLayout(self.grid)
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self.result: dict[str, Any] = {}

    def _build(self, measure: MeasureDefinition) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()  # not setParent(None): a parentless widget becomes a window
                widget.deleteLater()
        self.values: dict[str, tuple[QLabel, QLabel]] = {}
        for row, score_id in enumerate(measure.score_ids()):
            value = QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            value.setObjectName(f"score_{score_id}")
            band = QLabel()
            name = QLabel(measure.score_label(score_id))
            name.setWordWrap(True)  # long subscale names wrap in the narrow panel
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(value, row, 1)
            self.grid.addWidget(band, row, 2)
            self.values[score_id] = (value, band)
        self.measure_id = measure.id

    def update_scores(self, measure: MeasureDefinition, answers: list[int | None]) -> None:
        if getattr(self, "measure_id", None) != measure.id:
            self._build(measure)
        self.result = preview_scores(measure.id, answers)
        for score_id, (value_label, band_label) in self.values.items():
            value = self.result["scores"].get(score_id)
            value_label.setText("—" if value is None else f"{value:g}")
            band_label.setText(self.result["bands"].get(score_id, ""))
        answered = sum(a is not None for a in answers)
        notes = [f"{answered} of {len(answers)} questions answered."]
        notes += self.result["notes"]
        self.notes.setText("\n".join(notes))

    def clear(self) -> None:
        """No questionnaire open: no scores, no notes (nothing left from the last person)."""
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()  # not setParent(None): a parentless widget becomes a window
                widget.deleteLater()
        self.values = {}
        self.measure_id = None
        self.result = {}
        self.title.setText("<b>Scores</b>")
        self.notes.setText("")

    def shown_scores(self) -> dict[str, float | None]:
        return dict(self.result.get("scores", {}))
