"""The window never waits on the store: locking is instant whatever is queued, the window's
thread is refused store work, Returns works nothing out until asked, and window state belongs
to one workspace."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_idle
from ui.main_window import MainWindow
from vrp_desktop.services import participants
from vrp_desktop.store import threads

pytestmark = pytest.mark.gui


def test_lock_hides_data_at_once_while_a_slow_job_runs(qtbot, main_window: MainWindow):
    release = threading.Event()
    main_window.runner.submit(lambda: release.wait(4))  # a long store job is under way
    started = time.perf_counter()
    main_window.lock()
    took = time.perf_counter() - started
    assert main_window.screens.currentWidget() is main_window.unlock_screen
    assert not main_window.is_unlocked
    assert took < 0.5, f"lock waited {took:.2f} s for the store"
    release.set()
    done: list[bool] = []
    main_window.runner.submit(lambda: None, on_done=lambda _r: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)


def test_window_thread_is_refused_store_work(workspace):
    threads.refuse_current_thread()
    try:
        with pytest.raises(threads.StoreOnWrongThread, match="store thread"):
            participants.count_participants(workspace)
    finally:
        threads.allow_current_thread()
    seen: list[int] = []
    worker = threading.Thread(
        target=lambda: seen.append(participants.count_participants(workspace))
    )
    worker.start()
    worker.join()
    assert seen == [0]  # other threads still work


def test_window_state_is_kept_per_workspace(qtbot, main_window: MainWindow, app_settings, tmp_path):
    main_window.navigate("participants", "")
    main_window._save_state()
    same = MainWindow(main_window.folder, settings=app_settings)
    other = MainWindow(tmp_path / "another-workspace", settings=app_settings)
    for window in (same, other):
        qtbot.addWidget(window)
    try:
        assert same.settings.value(same._state_key("last_page")) == "participants"
        assert other.settings.value(other._state_key("last_page")) is None
        assert str(main_window.folder) not in "".join(app_settings.allKeys())
    finally:
        same.shutdown()
        other.shutdown()


def test_today_log_a_session_opens_the_form(qtbot, main_window: MainWindow):
    main_window.navigate("today", "")
    today = main_window.page("today")
    wait_idle(qtbot, main_window.ctx)
    qtbot.mouseClick(today.log_button, Qt.MouseButton.LeftButton)
    sessions = main_window.page("sessions")
    assert main_window.current_page_name() == "sessions"
    assert sessions.stack.currentWidget() is sessions.form
