"""One way to report what a user action changed: ``run_op`` and ``run_with_progress`` both emit
``data_changed`` after the action's own ``on_done``, so pages refresh centrally; nothing in the
window can wait on the store thread any more."""

from __future__ import annotations

import pytest
import shiboken6

from ui.worker import StoreRunner
from vrp_desktop.services import participants

pytestmark = pytest.mark.gui


def test_the_blocking_call_is_gone():
    assert not hasattr(StoreRunner, "call")


def test_a_long_action_reports_its_changes_after_its_own_answer(qtbot, unlocked_ctx):
    events: list[str] = []
    unlocked_ctx.data_changed.connect(lambda entity: events.append(f"changed:{entity}"))

    def add(ws, first, progress):
        progress("Adding", 1, 1)
        return participants.create_participant(ws, {"first_name": first, "last_name": "Okoro"})

    dialog = unlocked_ctx.run_with_progress(
        None,
        "Adding",
        add,
        "Ada",
        changes=("participant", "enrolment"),
        on_done=lambda p: events.append(f"done:{p['display_name']}"),
    )
    qtbot.waitUntil(lambda: len(events) == 3, timeout=10_000)
    assert events == ["done:Ada Okoro", "changed:participant", "changed:enrolment"]
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # closed (or already gone)


def test_a_failed_long_action_reports_no_change(qtbot, unlocked_ctx):
    events: list[str] = []
    unlocked_ctx.data_changed.connect(events.append)
    errors: list[BaseException] = []

    def broken(ws, progress):
        raise ValueError("no")

    unlocked_ctx.run_with_progress(
        None, "Failing", broken, changes=("participant",), on_error=errors.append
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert events == []
