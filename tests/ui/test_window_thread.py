"""The window's thread does no store work: with it refused, unlocking and opening Today,
Participants and Returns still fill in (everything arrives from the store thread), the lock is
instant behind a long job, and the status bar's attention count is the one a full re-check of
every record gives."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_idle
from ui.main_window import MainWindow
from vrp_desktop.services import participants, quality
from vrp_desktop.store import threads

pytestmark = pytest.mark.gui

TODAY = dt.date.today()


@pytest.fixture
def refused() -> Iterator[None]:
    """The test's (the window's) thread may not touch the store, as in the running app."""
    threads.refuse_current_thread()
    try:
        yield
    finally:
        threads.allow_current_thread()


def _person(ws, last: str, **changes) -> dict:
    fields = {
        "first_name": "Sam",
        "last_name": last,
        "date_of_birth": TODAY.replace(year=TODAY.year - 15) - dt.timedelta(days=40),
        "gender": "male",
        "ethnicity": "black_caribbean",
        "postcode": "b5 4tj",
        "consent_status": "given",
        "consent_date": TODAY - dt.timedelta(days=30),
        "address": "1 Church Road",
        **changes,
    }
    return participants.create_participant(ws, fields)


def test_pages_fill_in_with_the_window_thread_refused(qtbot, workspace, app_settings, refused):
    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_unlocked(workspace)  # would raise StoreOnWrongThread on any direct read
        for name in ("today", "participants", "returns"):
            window.navigate(name, "")
            wait_idle(qtbot, window.ctx)
        today = window.page("today")
        qtbot.waitUntil(lambda: today.data is not None, timeout=5000)
        qtbot.waitUntil(lambda: window.attention_count is not None, timeout=5000)
        assert window.attention_count == 0
        assert window.page("returns").data is None  # nothing built until asked
        started = time.perf_counter()
        window.lock()
        assert time.perf_counter() - started < 0.1
        assert window.screens.currentWidget() is window.unlock_screen
    finally:
        window.shutdown()


def test_lock_returns_at_once_behind_a_four_second_job(qtbot, main_window: MainWindow):
    release = threading.Event()
    main_window.runner.submit(lambda: release.wait(4))  # the store is busy for up to 4 s
    page_before = main_window.current_page_name()
    started = time.perf_counter()
    main_window.lock()
    took = time.perf_counter() - started
    try:
        assert took < 0.1, f"lock took {took * 1000:.0f} ms"
        assert main_window.screens.currentWidget() is main_window.unlock_screen
        assert main_window.unlock_screen.isVisible()
        assert not main_window.statusBar().isVisible()  # nothing of the data shows
        assert page_before  # and the page comes back for the same person later
    finally:
        release.set()
        wait_idle(qtbot, main_window.ctx)


def test_attention_count_equals_a_full_recheck(qtbot, workspace, app_settings):
    for n in range(5):
        _person(workspace, f"Valid{n}")
    for n in range(3):  # saved with problems: no date of birth, no consent date
        _person(workspace, f"Draft{n}", date_of_birth=None, consent_date=None)
    window = MainWindow(workspace.folder, settings=app_settings)
    qtbot.addWidget(window)
    window.show()
    try:
        window.show_unlocked(workspace)
        qtbot.waitUntil(lambda: window.attention_count is not None, timeout=5000)
        shown = window.attention_count
        # a full re-check: every open record validated again from scratch
        wait_idle(qtbot, window.ctx)
        done: list[dict] = []
        window.runner.submit(quality.revalidate_all, workspace, on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=10000)
        assert done[0]["participant"] == 8
        counts: list[dict] = []
        window.runner.submit(quality.attention_counts, workspace, on_done=counts.append)
        qtbot.waitUntil(lambda: bool(counts), timeout=5000)
        rechecked = sum(n for kind, n in counts[0].items() if kind != "attendance")
        assert shown == rechecked == 3
        assert window.attention_button.text() == "3 records need attention"
        qtbot.mouseClick(window.attention_button, Qt.MouseButton.LeftButton)
        assert window.current_page_name() == "today"
    finally:
        window.shutdown()
