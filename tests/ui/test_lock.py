"""Locking: Ctrl+L and the idle timer drop the workspace and show the unlock screen; the same
person unlocking gets the same page back with unsaved typing intact."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from tests.conftest import PASSPHRASE
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def _unlock(qtbot, window: MainWindow, passphrase: str = PASSPHRASE) -> None:
    screen = window.unlock_screen
    assert window.screens.currentWidget() is screen
    screen.passphrase.clear()
    qtbot.keyClicks(screen.passphrase, passphrase)
    qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.is_unlocked, timeout=10_000)


def test_ctrl_l_locks_and_unlock_restores_page(qtbot, main_window: MainWindow):
    main_window.navigate("settings", "")
    settings_page = main_window.page("settings")
    # a throwaway field on the page stands in for a half-filled form
    draft = QLineEdit(settings_page)
    draft.setText("half-typed note")
    old_ws = main_window.ctx.ws

    qtbot.keyClick(main_window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    assert not main_window.is_unlocked
    assert main_window.ctx.ws is None
    assert main_window.screens.currentWidget() is main_window.unlock_screen
    assert not main_window.statusBar().isVisible()
    assert old_ws is not main_window.ctx.ws

    _unlock(qtbot, main_window)

    assert main_window.current_page_name() == "settings"
    assert main_window.page("settings") is settings_page  # not rebuilt
    assert draft.text() == "half-typed note"
    assert main_window.ctx.ws.user.username == "manager"


def test_idle_lock_after_timeout(qtbot, main_window: MainWindow):
    main_window.navigate("sync", "")
    main_window.set_idle_minutes(0.004)  # about a quarter of a second
    qtbot.waitUntil(lambda: not main_window.is_unlocked, timeout=5_000)
    assert main_window.screens.currentWidget() is main_window.unlock_screen
    assert main_window.settings.value("security/idle_lock_minutes") in (0.004, "0.004")

    _unlock(qtbot, main_window)
    assert main_window.current_page_name() == "sync"
    main_window.set_idle_minutes(0)


def test_activity_postpones_idle_lock(qtbot, main_window: MainWindow):
    main_window.set_idle_minutes(0.05)  # 3 s: wide enough margins for a loaded CI machine
    for _ in range(14):  # 4.2 s of activity in all, more than the idle time
        qtbot.wait(300)
        qtbot.keyClick(main_window.nav, Qt.Key.Key_Down)
        assert main_window.is_unlocked
    qtbot.waitUntil(lambda: not main_window.is_unlocked, timeout=10_000)


def test_lock_button_and_nothing_while_locked(qtbot, main_window: MainWindow):
    qtbot.mouseClick(main_window.lock_button, Qt.MouseButton.LeftButton)
    assert not main_window.is_unlocked
    # page shortcuts do nothing while locked
    qtbot.keyClick(main_window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert main_window.screens.currentWidget() is main_window.unlock_screen


def test_other_user_gets_fresh_pages(qtbot, main_window: MainWindow, workspace):
    from vrp_desktop.services import users

    users.add_user(workspace, "sam", "another long passphrase 42", role="worker")
    main_window.navigate("settings", "")
    before = main_window.page("settings")
    main_window.lock()
    main_window.unlock_screen.reset(username="sam")
    _unlock(qtbot, main_window, "another long passphrase 42")
    assert main_window.ctx.ws.user.username == "sam"
    assert "settings" not in main_window.pages or main_window.pages["settings"] is not before
    assert "Youth worker" in main_window.user_label.text()
