"""Fixtures shared by the UI tests: a page context on a real store runner, and the main
window already unlocked for the conftest ``workspace``.

Both use the real encrypted workspace from ``tests/conftest.py`` (user "manager", passphrase
``tests.conftest.PASSPHRASE``) and run on the offscreen platform.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

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


def on_store(qtbot, ctx: AppContext, fn, *args: Any, timeout: int = 20_000, **kwargs: Any) -> Any:
    """Run ``fn(*args)`` on the store thread (where the workspace lives) and return its answer,
    keeping the GUI thread's event loop turning meanwhile (set-up data, or a check)."""
    box: dict[str, Any] = {}
    ctx.runner.submit(
        fn,
        *args,
        on_done=lambda r: box.setdefault("result", r),
        on_error=lambda e: box.setdefault("error", e),
        **kwargs,
    )
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    if "error" in box:
        raise box["error"]
    return box["result"]


def wait_ready(qtbot, model, timeout: int = 5000) -> None:
    """Wait until a paged model's new query, and its count, have arrived from the store thread."""
    qtbot.waitUntil(lambda: not model.refreshing and not model.counting, timeout=timeout)


def settle(qtbot, ctx: AppContext, rounds: int = 8, timeout: int = 5000) -> None:
    """Wait until the store has answered everything, including jobs that answers queued."""
    for _ in range(rounds):
        wait_idle(qtbot, ctx, timeout=timeout)
        if not ctx.runner._callbacks:
            return


def _pending_debounce() -> bool:
    """True while a search box on screen is still waiting out its typing pause."""
    window = QApplication.activeModalWidget() or QApplication.activeWindow()
    if window is None:
        return False
    return any(
        t.isActive() and t.isSingleShot() and t.interval() <= 500
        for t in window.findChildren(QTimer)
    )


def _inside(window, widget) -> bool:
    return widget is not None and (window is widget or window.isAncestorOf(widget))


def _describe(widget) -> str:
    if widget is None:
        return "none"
    return f"{type(widget).__name__}({widget.objectName() or widget.windowTitle()!r})"


class Keyboard:
    """Presses keys where the focus is, as a person does, and counts every one.

    After each key it waits for the store to answer (a person's pace); ``look()`` also waits
    out a search box's typing pause, as a person reading the results would.
    """

    def __init__(self, qtbot, ctx: AppContext) -> None:
        self.qtbot, self.ctx, self.count = qtbot, ctx, 0
        #: where the last key went, and what was in front then (for a failing test's message)
        self.last: str = ""

    def _aim(self):
        target = self.target()
        modal, popup = QApplication.activeModalWidget(), QApplication.activePopupWidget()
        shown = [_describe(w) for w in QApplication.topLevelWidgets() if w.isVisible()]
        self.last = (
            f"key to {_describe(target)}; modal {_describe(modal)}; popup {_describe(popup)}; "
            f"focus {_describe(QApplication.focusWidget())}; "
            f"active window {_describe(QApplication.activeWindow())}; "
            f"visible top-levels {shown}"
        )
        return target

    @staticmethod
    def target():
        """Where a person's key lands. A dialog in front of them takes it: a window manager
        gives a new dialog the focus (the offscreen platform sometimes does not), and a popup
        left over from the window behind (a late search list) is not what they are looking
        at. Otherwise an open popup, else the focused widget."""
        popup = QApplication.activePopupWidget()
        modal, focus = QApplication.activeModalWidget(), QApplication.focusWidget()
        if modal is None:
            return popup or focus or QApplication.activeWindow()
        if popup is not None and _inside(modal, popup.parentWidget()):
            return popup
        return focus if _inside(modal, focus) else (modal.focusWidget() or modal)

    def _see_new_dialog(self) -> None:
        """A person types into a dialog once it is in front of them: when one has just opened,
        wait (up to 3 s, as a loaded machine may take) for the focus to move into it."""

        def focus_in_modal() -> bool:
            modal = QApplication.activeModalWidget()
            return modal is None or _inside(modal, QApplication.focusWidget())

        with contextlib.suppress(Exception):  # no focus after 3 s: type where it is
            self.qtbot.waitUntil(focus_in_modal, timeout=3000)

    def press(self, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        self.count += 1
        self._see_new_dialog()
        self.qtbot.keyClick(self._aim(), key, modifiers)
        settle(self.qtbot, self.ctx)

    def type(self, text: str) -> None:
        for char in text:
            self.count += 1
            self._see_new_dialog()
            self.qtbot.keyClicks(self._aim(), char)
            settle(self.qtbot, self.ctx)

    def look(self) -> None:
        """Read the screen: no key pressed, but what was typed has been searched for."""
        self.qtbot.waitUntil(lambda: not _pending_debounce(), timeout=2000)
        settle(self.qtbot, self.ctx)


def make_person(ws, first: str, last: str, dob: str = "2010-06-01") -> dict[str, Any]:
    """A consenting young person, set up through the service (data the test starts from)."""
    from vrp_desktop.services import participants

    return participants.create_participant(
        ws,
        {
            "first_name": first,
            "last_name": last,
            "date_of_birth": dob,
            "gender": "female",
            "ethnicity": "white_british",
            "consent_status": "given",
            "consent_date": "2025-09-01",
        },
    )


def enrol_in(ws, pid: str, iid: str, start: dt.date | str = "2025-09-01") -> dict[str, Any]:
    """Enrol ``pid`` in ``iid`` from ``start`` (self-referred on the same day)."""
    from vrp_desktop.services import enrolments

    return enrolments.enrol(
        ws, pid, iid, {"referral_source": "self", "referral_date": start, "start_date": start}
    )
