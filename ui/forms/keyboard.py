"""Keyboard-speed helpers: a button whose underlined letter acts at once, and focus that
comes back to the window after a dialog.

Qt answers a button's mnemonic (Alt+letter) with ``animateClick()``: the button is drawn pressed
and clicked about 100 ms later. A person who types Alt+R and then a name's first letter within
that time sends the letter to whatever had the focus before (the Intervention box, which then
jumps to another intervention), and the Repeat happens after it. Clicking at once lets the
action move the focus before the next key arrives, so keys land where the person expects.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QShortcutEvent
from PySide6.QtWidgets import QPushButton, QWidget


class Button(QPushButton):
    """``QPushButton`` whose Alt+letter clicks immediately (an ambiguous letter only focuses)."""

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Shortcut
            and isinstance(event, QShortcutEvent)
            and not event.isAmbiguous()
            and self.isEnabled()
        ):
            if self.focusPolicy() != Qt.FocusPolicy.NoFocus:
                self.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.click()
            return True
        return super().event(event)


def give_focus(widget: QWidget) -> None:
    """Give ``widget`` the keys, taking its window back from a dialog that just closed.

    Not every platform hands activation back to the parent when a dialog closes; without it the
    next key goes nowhere.
    """
    window = widget.window()
    if window.isVisible() and not window.isActiveWindow():
        window.activateWindow()
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
