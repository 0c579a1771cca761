"""The unlock screen through its real widgets, against a real encrypted workspace."""

from __future__ import annotations

import hashlib
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt

from tests.conftest import PASSPHRASE
from ui.main_window import MainWindow
from vrp_desktop.crypto import remember
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def locked_window(qtbot, workspace, app_settings):
    """The window on the conftest workspace, showing the unlock screen (the workspace closed)."""
    workspace.close()
    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.shutdown()


def test_right_passphrase_unlocks_and_remembers(qtbot, locked_window: MainWindow, workspace):
    screen = locked_window.unlock_screen
    assert screen.user.currentText() == "manager"
    qtbot.waitUntil(screen.remember.isEnabled, timeout=5000)  # the keychain is asked off-thread
    assert not screen.unlock_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(screen.passphrase, PASSPHRASE)
    qtbot.mouseClick(screen.remember, Qt.MouseButton.LeftButton)
    assert screen.remember.isChecked()
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: locked_window.is_unlocked, timeout=10_000)

    ws = locked_window.ctx.ws
    assert ws.user.username == "manager"
    assert ws.user.role == "manager"
    assert locked_window.current_page_name() == "today"
    assert "Morgan Manager" in locked_window.user_label.text()
    qtbot.waitUntil(lambda: "Test Youth Project" in locked_window.workspace_label.text())
    # the key really is in the keychain, and it opens the workspace
    assert remember.recall(ws.workspace_id, "manager") == ws.master_key
    assert screen.passphrase.text() == ""


def test_wrong_passphrase_changes_no_file(qtbot, locked_window: MainWindow, workspace):
    folder = workspace.folder
    before = _snapshot(folder)
    screen = locked_window.unlock_screen
    qtbot.keyClicks(screen.passphrase, "not the passphrase at all")
    qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.error.isVisible(), timeout=10_000)

    assert not locked_window.is_unlocked
    assert "passphrase" in screen.error.text().lower()
    assert screen.passphrase.text() == ""
    assert not screen.unlock_button.isEnabled()
    assert _snapshot(folder) == before
    with Workspace.open(folder, "manager", PASSPHRASE) as ws:
        assert remember.recall(ws.workspace_id, "manager") is None


def test_repeated_wrong_passphrase_waits_before_next_try(qtbot, locked_window: MainWindow):
    screen = locked_window.unlock_screen
    for _ in range(3):
        qtbot.waitUntil(lambda: screen._remaining == 0 and not screen._busy, timeout=10_000)
        qtbot.keyClicks(screen.passphrase, "wrong wrong wrong")
        qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: screen.error.isVisible() and not screen._busy, timeout=10_000)
    assert screen._remaining >= 1
    qtbot.keyClicks(screen.passphrase, PASSPHRASE)
    assert not screen.unlock_button.isEnabled()
    assert screen.unlock_button.text().startswith("Wait")
    qtbot.waitUntil(lambda: screen.unlock_button.isEnabled(), timeout=5_000)
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: locked_window.is_unlocked, timeout=10_000)


def test_remember_disabled_with_reason_without_keyring(qtbot, workspace, app_settings):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    workspace.close()
    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    window.show()
    screen = window.unlock_screen
    qtbot.waitUntil(lambda: "no system keychain" in screen.remember_reason.text().lower())
    assert not screen.remember.isEnabled()
    assert not screen.remember.isChecked()
    assert screen.remember_reason.isVisible()
    qtbot.keyClicks(screen.passphrase, PASSPHRASE)
    qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.is_unlocked, timeout=10_000)
    window.shutdown()


def test_recovery_code_unlocks_and_forces_new_passphrase(qtbot, locked_window, workspace):
    code = workspace.recovery_code
    new = "lantern meadow copper violin"
    screen = locked_window.unlock_screen
    dialog = screen.open_recovery()
    assert dialog.user.currentText() == "manager"
    qtbot.keyClicks(dialog.code, code)
    assert not dialog.ok.isEnabled()  # no new passphrase yet
    qtbot.keyClicks(dialog.fields.first, new)
    qtbot.keyClicks(dialog.fields.second, new)
    assert dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: locked_window.is_unlocked, timeout=10_000)
    assert locked_window.ctx.ws.user.username == "manager"

    # the store now opens with the new passphrase, and no longer with the old one
    from vrp_desktop.errors import WrongPassphrase

    Workspace.open(workspace.folder, "manager", new).close()
    with pytest.raises(WrongPassphrase):
        Workspace.open(workspace.folder, "manager", PASSPHRASE)


def test_wrong_recovery_code_is_shown_inline(qtbot, locked_window, workspace):
    dialog = locked_window.unlock_screen.open_recovery()
    qtbot.keyClicks(dialog.code, "AAAA-BBBB-CCCC-DDDD")
    qtbot.keyClicks(dialog.fields.first, "lantern meadow copper violin")
    qtbot.keyClicks(dialog.fields.second, "lantern meadow copper violin")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert not locked_window.is_unlocked
    Workspace.open(workspace.folder, "manager", PASSPHRASE).close()
