"""Search as you type reads the first page while the person pauses, so the rows are there the
moment the pause ends, and never shows a page read before a save or for older text."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_idle, wait_ready
from ui.pages.participants import ParticipantsPage
from vrp_desktop.services import participants

pytestmark = pytest.mark.gui

PEOPLE = [("Jamal", "Reid"), ("Jamie", "Oduya"), ("Ava", "Jameson"), ("Zara", "Khan")]


def _fields(first: str, last: str) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "date_of_birth": "2010-05-01",
        "gender": "male",
        "ethnicity": "white_british",
        "consent_status": "given",
        "consent_date": "2026-01-01",
    }


@pytest.fixture
def page(qtbot, unlocked_ctx, workspace):
    for first, last in PEOPLE:
        participants.create_participant(workspace, _fields(first, last))
    page = ParticipantsPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    wait_ready(qtbot, page.model)
    page._timer.setInterval(60_000)  # the pause "ends" when the test says so (run_search)
    return page


def _names(page) -> list[str]:
    return sorted(page.visible_names())


def test_rows_read_in_the_pause_show_at_once_when_it_ends(qtbot, page, unlocked_ctx):
    page.search.setFocus()
    qtbot.keyClicks(page.search, "jam")
    wait_idle(qtbot, unlocked_ctx)  # the read ahead has answered; the pause is still running
    assert page._timer.isActive() and len(page.visible_names()) == 4  # nothing shown yet

    page.run_search()  # the pause ends: the rows are already in, no store round trip
    assert _names(page) == ["Ava Jameson", "Jamal Reid", "Jamie Oduya"]
    assert not page.model.refreshing
    wait_ready(qtbot, page.model)
    assert page.count.text() == "3 people"


def test_typing_on_reads_the_new_text(qtbot, page, unlocked_ctx):
    page.search.setFocus()
    qtbot.keyClicks(page.search, "jam")
    wait_idle(qtbot, unlocked_ctx)
    qtbot.keyClicks(page.search, "al")
    page.run_search()  # may come before the new read has answered: it waits for that one
    qtbot.waitUntil(lambda: _names(page) == ["Jamal Reid"], timeout=5000)
    wait_ready(qtbot, page.model)
    assert _names(page) == ["Jamal Reid"]


def test_a_save_during_the_pause_is_shown(qtbot, page, unlocked_ctx):
    page.search.setFocus()
    qtbot.keyClicks(page.search, "jam")
    wait_idle(qtbot, unlocked_ctx)  # read ahead, before the save
    saved: list[dict] = []
    unlocked_ctx.run_op(
        participants.create_participant,
        _fields("Jamila", "Stone"),
        changes=("participant",),
        on_done=saved.append,
    )
    qtbot.waitUntil(lambda: bool(saved), timeout=5000)

    page.run_search()
    wait_ready(qtbot, page.model)
    assert _names(page) == ["Ava Jameson", "Jamal Reid", "Jamie Oduya", "Jamila Stone"]
