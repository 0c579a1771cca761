"""The session's date and time as one typed field: left with one Tab, a calendar on demand.

A QDateTimeEdit keeps Tab for its six sections; a youth worker types "27/11 18:00" (or
"yesterday 18:00") and moves on. F4, Alt+Down or the calendar icon opens a calendar.
"""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import QDate, QDateTime, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QCalendarWidget, QLineEdit, QStyle, QWidget

DISPLAY = "%a %d/%m/%Y %H:%M"
EXAMPLE = "28/11/2026 18:00"
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")


def parse_when(text: str, *, today: dt.date, current: dt.datetime | None = None) -> dt.datetime:
    """A date and time from what a person types; ValueError with what to type when wrong.

    Accepts "28/11/2026 18:00", "28/11/26 18:00", "28/11 18:00" (this year), "Fri 27/11/2026
    18:00" (the day name is ignored), "today 18:00", "yesterday 18:00", "2026-11-28 18:00" and a
    time alone ("18:00", keeping the date already there)."""
    words = text.strip().lower().replace(",", " ").split()
    if words and words[0].isalpha() and words[0] not in ("today", "yesterday"):
        words = words[1:]  # "Fri 27/11/2026 18:00": the day name is for reading, not parsing
    if not words:
        raise ValueError(f"Type the date and time the session started, like {EXAMPLE}.")
    time_match = _TIME.match(words[-1])
    if not time_match:
        raise ValueError(f"Add the start time after the date, like {EXAMPLE}.")
    hour, minute = int(time_match[1]), int(time_match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{words[-1]} isn't a time of day. Use the 24-hour clock, like 18:00.")
    date_words = words[:-1]
    if not date_words:
        day = current.date() if current else today
    elif len(date_words) > 1:
        raise ValueError(f"Type the date and time like {EXAMPLE}.")
    elif date_words[0] == "today":
        day = today
    elif date_words[0] == "yesterday":
        day = today - dt.timedelta(days=1)
    else:
        day = _parse_day(date_words[0], today)
    return dt.datetime.combine(day, dt.time(hour, minute))


def _parse_day(word: str, today: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        pass
    match = _DATE.match(word)
    if not match:
        raise ValueError(f"{word} isn't a date. Type day/month/year, like {EXAMPLE}.")
    year = today.year if match[3] is None else int(match[3])
    if year < 100:
        year += 2000
    try:
        return dt.date(year, int(match[2]), int(match[1]))
    except ValueError:
        raise ValueError(f"{word} isn't a date on the calendar. Check the day and month.") from None


class WhenEdit(QLineEdit):
    """One line for the start; ``dateTimeChanged(datetime)`` when what is typed is a new one."""

    dateTimeChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value: dt.datetime | None = None
        self.problem: str | None = None
        self.setPlaceholderText(f"e.g. {EXAMPLE}")
        self.setToolTip(
            f"Type the date and time, like {EXAMPLE}, 28/11 18:00 or yesterday 18:00. "
            "F4 opens a calendar."
        )
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogDetailedView)
        self.calendar_action = QAction(icon, "Open calendar (F4)", self)
        self.calendar_action.triggered.connect(self.open_calendar)
        self.addAction(self.calendar_action, QLineEdit.ActionPosition.TrailingPosition)
        self.popup: QCalendarWidget | None = None
        self.textEdited.connect(self._typed)

    # -- value ---------------------------------------------------------------------------
    def value(self) -> dt.datetime | None:
        return self._value

    def dateTime(self) -> QDateTime:
        return QDateTime(self._value) if self._value else QDateTime()

    def setDateTime(self, value: QDateTime | dt.datetime | None) -> None:
        if isinstance(value, QDateTime):
            value = value.toPython() if value.isValid() else None
        if value is not None:
            value = value.replace(second=0, microsecond=0, tzinfo=None)
        self.problem = None
        self.setText(value.strftime(DISPLAY) if value else "")
        self._set(value)

    def _set(self, value: dt.datetime | None) -> None:
        if value != self._value:
            self._value = value
            self.dateTimeChanged.emit(value)

    def _typed(self, text: str) -> None:
        try:
            value = parse_when(text, today=dt.date.today(), current=self._value)
        except ValueError as exc:
            self.problem = str(exc)
            self.dateTimeChanged.emit(self._value)  # re-check: the form shows the problem
            return
        had_problem, self.problem = self.problem is not None, None
        if value == self._value and had_problem:
            self.dateTimeChanged.emit(value)  # fixed back to the same time: clear the problem
        self._set(value)

    def focusOutEvent(self, event) -> None:
        """On leaving, show what was understood (with its day name) when it parsed."""
        super().focusOutEvent(event)
        if self.problem is None and self._value is not None:
            self.setText(self._value.strftime(DISPLAY))

    # -- calendar on demand --------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        alt_down = (
            event.key() == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier
        )
        if event.key() == Qt.Key.Key_F4 or alt_down:
            self.open_calendar()
            event.accept()
            return
        super().keyPressEvent(event)

    def open_calendar(self) -> None:
        popup = QCalendarWidget(self)
        popup.setWindowFlags(Qt.WindowType.Popup)
        popup.setGridVisible(True)
        current = self._value or dt.datetime.now()
        popup.setSelectedDate(QDate(current.date()))
        popup.setMaximumDate(QDate(dt.date.today() + dt.timedelta(days=366)))
        popup.activated.connect(self._picked)
        popup.clicked.connect(self._picked)
        popup.move(self.mapToGlobal(self.rect().bottomLeft()))
        self.popup = popup
        popup.show()
        popup.setFocus()

    def _picked(self, date: QDate) -> None:
        time = (self._value or dt.datetime.now().replace(second=0, microsecond=0)).time()
        self.setDateTime(dt.datetime.combine(date.toPython(), time))
        if self.popup is not None:
            self.popup.close()
            self.popup.deleteLater()
            self.popup = None
        self.setFocus()
