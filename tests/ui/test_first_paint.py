"""What the unlock screen's first paint no longer waits for (issue 9: start to unlock screen
within 1.5x of a bare PySide6 window): the Qt namespace (some 110 enums, ~30 ms to create),
the key-slot machinery and the keychain, which all come once the screen is on show; and the
theme, chosen before that paint from the platform palette, is checked against Qt's colour
scheme afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from ui import theme
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui

_CHILD = r"""
import json, sys
import PySide6.QtCore as QtCore
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])


class Watch(QObject):
    done = False

    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint and (
            type(obj).__name__ == "UnlockScreen"
        ):
            self.done = True
            state = {
                "qt_namespace": "Qt" in QtCore.__dict__,
                "keyslots": "vrp_desktop.crypto.keyslots" in sys.modules,
                "strength": "vrp_desktop.crypto.strength" in sys.modules,
                "users": [obj.user.itemText(i) for i in range(obj.user.count())],
            }
            print("STATE " + json.dumps(state), flush=True)
        return False


watch = Watch()
app.installEventFilter(watch)
from ui.app import main

main(["--workspace", sys.argv[1], "--exit-when-shown"])
"""


def test_the_first_paint_needs_neither_the_qt_namespace_nor_the_key_slot_code(workspace):
    folder = workspace.folder
    workspace.close()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("STATE ")]
    assert lines, f"the unlock screen never painted:\n{done.stderr[-2000:]}"
    state = json.loads(lines[0][len("STATE ") :])
    assert state["users"], "the users are listed on the first frame"
    assert state == {**state, "qt_namespace": False, "keyslots": False, "strength": False}


def test_what_waits_for_the_first_paint_is_done_after_it(qtbot, workspace, app_settings):
    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.unlock_screen.first_painted, timeout=10_000):
        window.show()
    screen = window.unlock_screen
    assert screen.where.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert screen.recovery_button.cursor().shape() == Qt.CursorShape.PointingHandCursor
    assert window.lock_shortcut.context() == Qt.ShortcutContext.ApplicationShortcut
    assert window.nav.item(1).data(Qt.ItemDataRole.UserRole) == "participants"
    qtbot.waitUntil(lambda: window._preloading)  # the store stack loads after the paint


@pytest.fixture
def fresh_theme(monkeypatch):
    """As at start-up: no palette applied by the theme yet (restored afterwards)."""
    app = QApplication.instance()
    before = QPalette(app.palette())
    monkeypatch.setattr(theme, "_applied_dark", None)
    yield app
    app.setPalette(before)
    theme.apply(app, "light")


def _window_colour(app) -> str:
    return app.palette().color(QPalette.ColorRole.Window).name()


def test_a_wrong_guess_from_the_platform_palette_is_put_right_after_the_paint(
    fresh_theme, app_settings: QSettings
):
    app = fresh_theme
    app_settings.setValue(theme.SETTING, "system")
    app.setPalette(theme.palette(True))  # a platform that hands Qt a dark palette
    theme.apply(app, settings=app_settings, before_first_paint=True)
    assert _window_colour(app) == theme.palette(True).color(QPalette.ColorRole.Window).name()

    theme.confirm_system(app, app_settings)  # Qt's colour scheme here (offscreen) is not dark
    expected = theme.palette(theme.system_is_dark()).color(QPalette.ColorRole.Window).name()
    assert _window_colour(app) == expected
    assert theme._applied_dark is theme.system_is_dark()


def test_a_chosen_theme_is_never_guessed(fresh_theme, app_settings: QSettings):
    app = fresh_theme
    app_settings.setValue(theme.SETTING, "dark")
    app.setPalette(theme.palette(False))
    theme.apply(app, settings=app_settings, before_first_paint=True)
    assert _window_colour(app) == theme.palette(True).color(QPalette.ColorRole.Window).name()
    theme.confirm_system(app, app_settings)
    assert theme._applied_dark is True
