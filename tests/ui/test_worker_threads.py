"""Qt objects are freed on the GUI thread, never on the store thread.

Qt crashes (or deadlocks) when a widget is deleted off the thread it lives on. CI saw a
segfault in a store thread just as a job ended, and a test worker hung until the run was
killed. Two ways a store thread could free a Qt object: holding the last reference to a job's
arguments, or running Python's cycle collector while garbage holds a Qt object.
"""

from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QObject

from ui.garbage import GuiThreadCollector, collect_on_gui_thread
from ui.worker import StoreRunner

pytestmark = pytest.mark.gui


class Tracked(QObject):
    """Records the name of the thread that freed it."""

    def __init__(self, freed_in: list[str]) -> None:
        super().__init__()
        self.freed_in = freed_in

    def __del__(self) -> None:
        self.freed_in.append(threading.current_thread().name)


def churn(rounds: int = 200_000) -> int:
    """Work that keeps enough new containers alive to cross every collection threshold."""
    kept = [[n] for n in range(rounds)]
    return len(kept)


def test_job_arguments_are_released_on_the_gui_thread(qtbot):
    runner = StoreRunner()
    freed_in: list[str] = []
    done: list[int] = []
    try:
        runner.submit(lambda widget: churn(10), Tracked(freed_in), on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=10_000)
        assert freed_in == [threading.main_thread().name]
    finally:
        runner.shutdown()


def test_a_failed_jobs_arguments_are_released_on_the_gui_thread(qtbot):
    runner = StoreRunner()
    freed_in: list[str] = []
    errors: list[BaseException] = []

    def fails(widget: Tracked) -> None:
        raise ValueError("no")

    try:
        runner.submit(fails, Tracked(freed_in), on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
        assert isinstance(errors[0], ValueError)
        del errors[:]  # the traceback's frames hold the argument too
        gc.collect()
        assert freed_in == [threading.main_thread().name]
    finally:
        runner.shutdown()


def test_qt_garbage_in_a_cycle_is_collected_on_the_gui_thread(qtbot, qapp):
    collector = collect_on_gui_thread(qapp)
    assert not gc.isenabled()
    runner = StoreRunner()
    freed_in: list[str] = []
    done: list[int] = []
    try:
        cycle: dict = {"widget": Tracked(freed_in)}
        cycle["self"] = cycle
        del cycle  # garbage now, but only the cycle collector can free it
        runner.submit(churn, on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=30_000)
        assert freed_in == []  # the store thread allocated a lot and collected nothing
        gc.collect()  # what the collector's timer does on this thread when a threshold is due
        assert freed_in == [threading.main_thread().name]
    finally:
        runner.shutdown()
    assert isinstance(collector, GuiThreadCollector)


def test_the_collector_collects_when_a_threshold_is_due(qapp):
    collector = collect_on_gui_thread(qapp)
    freed_in: list[str] = []
    cycle: dict = {"widget": Tracked(freed_in)}
    cycle["self"] = cycle
    del cycle
    young = [[n] for n in range(2_000)]  # pushes the youngest generation past its threshold
    assert gc.get_count()[0] > collector.thresholds[0]
    collector.collect_due()
    del young
    assert freed_in == [threading.main_thread().name]
