"""Enter in the session form's two questions does what their buttons promise, in every style.

The "Already logged?" dialog set its default button before the button was inside the dialog,
so Qt never recorded it as the dialog's default and, on showing, chose one itself. After one
particular run of earlier tests (the UI tests in one process: it failed 3 runs of 3) it chose
the disabled "Save both", and Enter did nothing; CI failed on it four times. The defaults are
now set once the buttons are in the dialog, and that run passes. These tests pin the promised
behaviour under each style; the order-dependent failure itself is caught by
``test_session_keystrokes.py`` when run after the rest of ``tests/ui``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from ui.forms.session_dialogs import DeleteSessionDialog, DuplicateDialog

pytestmark = pytest.mark.gui

SAME_EVENING = [{"starts_at": dt.datetime(2026, 11, 20, 18, 0), "shared": 9}]


@pytest.fixture(params=sorted(QStyleFactory.keys()))
def style(request, qapp) -> Iterator[str]:
    before = qapp.style().name()
    qapp.setStyle(request.param)
    yield request.param
    qapp.setStyle(before)


def show(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    dialog.reason.setFocus()
    return dialog


def test_enter_goes_back_until_a_reason_is_typed_then_saves_both(qtbot, style):
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = show(qtbot, DuplicateDialog(parent, SAME_EVENING))
    assert dialog.back_button.isDefault() and not dialog.keep_button.isDefault()
    with qtbot.waitSignal(dialog.rejected, timeout=2000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert not dialog.isVisible()

    dialog = show(qtbot, DuplicateDialog(parent, SAME_EVENING))
    qtbot.keyClicks(dialog.reason, "two pitches")
    assert dialog.keep_button.isDefault() and dialog.keep_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.reason_text() == "two pitches"


def test_enter_deletes_only_once_a_reason_is_typed(qtbot, style):
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = show(qtbot, DeleteSessionDialog(parent, "Friday Football on 20/11/2026"))
    assert dialog.delete_button.isDefault()
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.isVisible() and QApplication.activeModalWidget() is dialog
    qtbot.keyClicks(dialog.reason, "logged twice")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
