"""Fixtures shared by the UI tests: a page context on a real store runner, and the main
window already unlocked for the conftest ``workspace``.

Both use the real encrypted workspace from ``tests/conftest.py`` (user "manager", passphrase
``tests.conftest.PASSPHRASE``) and run on the offscreen platform.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from ui.context import AppContext
from ui.worker import StoreRunner


@pytest.fixture
def app_settings(tmp_path) -> QSettings:
    """A QSettings in a throwaway ini file, so tests never read or write the real ones."""
    return QSettings(str(tmp_path / "vrp-desktop-test.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def unlocked_ctx(workspace, qtbot) -> Iterator[AppContext]:
    """An ``AppContext`` for the open ``workspace`` with a real ``StoreRunner``.

    Build a page with ``Page(unlocked_ctx)`` and ``qtbot.addWidget(page)``.
    """
    runner = StoreRunner()
    ctx = AppContext(workspace, runner)
    yield ctx
    runner.shutdown()


@pytest.fixture
def main_window(qtbot, workspace, app_settings):
    """The main window, shown and unlocked as the conftest ``workspace``'s user (a manager)."""
    from ui.main_window import MainWindow

    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show_unlocked(workspace)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.shutdown()


@contextlib.contextmanager
def opened_ctx(folder: Path, user: str) -> Iterator[AppContext]:
    """An ``AppContext`` on the workspace in ``folder`` opened as ``user`` (the test passphrase),
    with its own store runner; both are closed on leaving."""
    from tests.conftest import PASSPHRASE
    from vrp_desktop.workspace import Workspace

    ws = Workspace.open(folder, user, PASSPHRASE)
    runner = StoreRunner()
    try:
        yield AppContext(ws, runner)
    finally:
        runner.shutdown()
        ws.close()


def wait_idle(qtbot, ctx: AppContext, timeout: int = 5000) -> None:
    """Wait until every job queued on the store runner so far has run and been delivered."""
    done: list[bool] = []
    ctx.runner.submit(lambda: None, on_done=lambda _r: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=timeout)


def wait_ready(qtbot, model, timeout: int = 5000) -> None:
    """Wait until a paged model's new query, and its count, have arrived from the store thread."""
    qtbot.waitUntil(lambda: not model.refreshing and not model.counting, timeout=timeout)
