"""Start-up time is behaviour a person waits through: the unlock screen paints before the
libraries only an unlocked window needs are loaded (issue 9: start to unlock screen within
1.5x of a bare PySide6 window). A child process starts the app as a person does and lists what
is loaded at the unlock screen's first paint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

_CHILD = r"""
import json, sys
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
            print("LOADED " + json.dumps(sorted(sys.modules)), flush=True)
        return False


watch = Watch()
app.installEventFilter(watch)
from ui.app import main

main(["--workspace", sys.argv[1], "--exit-when-shown"])
"""

#: loaded only once someone is in (store stack, pages, spreadsheets, statistics, keychain)
NOT_BEFORE_UNLOCK_SCREEN = (
    "sqlalchemy",
    "alembic",
    "sqlcipher3",
    "openpyxl",
    "scipy",
    "numpy",
    "pydantic",
    "cryptography",
    "argon2",
    "keyring",
    "httpx",
    "platformdirs",
    "PySide6.QtCharts",
    "ui.pages.today",
    "ui.pages.participants",
    "ui.pages.sessions",
    "ui.pages.settings",
    "vrp_desktop.workspace",
    "vrp_desktop.services",
)


def test_the_unlock_screen_paints_before_heavy_modules_load(workspace):
    folder = workspace.folder
    workspace.close()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines, f"the unlock screen never painted:\n{done.stderr[-2000:]}"
    loaded = set(json.loads(lines[0][len("LOADED ") :]))
    assert "ui.unlock" in loaded  # it is the real unlock screen
    early = sorted(
        name
        for name in loaded
        for heavy in NOT_BEFORE_UNLOCK_SCREEN
        if name == heavy or name.startswith(heavy + ".")
    )
    assert not early, early
