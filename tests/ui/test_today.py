"""The Today page shows what the store holds."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import distinct, func, select

from tests.ui.conftest import on_store, wait_idle
from ui.pages.today import TodayPage
from vrp_desktop import codes
from vrp_desktop.services import demo
from vrp_desktop.store.models import Attendance, Participant, Session

pytestmark = pytest.mark.gui


def _expected(ws) -> tuple[int, int, int]:
    """Independent counts straight from the tables: this week, this quarter, attention."""
    today = dt.date.today()
    monday = dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time())
    fy = today.year if today.month >= 4 else today.year - 1
    q = ((today.month - 4) % 12) // 3
    month = 4 + 3 * q
    q_start = dt.datetime(fy + (month > 12), (month - 1) % 12 + 1, 1)
    with ws.read() as db:
        week = db.scalar(
            select(func.count())
            .select_from(Session)
            .where(
                Session.status == "delivered",
                Session.starts_at >= monday,
                Session.starts_at < monday + dt.timedelta(days=7),
            )
        )
        reached = db.scalar(
            select(func.count(distinct(Attendance.participant_id)))
            .join(Session, Session.id == Attendance.session_id)
            .join(Participant, Participant.id == Attendance.participant_id)
            .where(
                Session.status == "delivered",
                Session.starts_at >= q_start,
                Session.starts_at <= dt.datetime.now(),
                Attendance.status.in_(codes.PRESENT_STATUSES),
                Participant.erased_at.is_(None),
            )
        )
        attention = sum(
            db.scalar(select(func.count()).select_from(m).where(m.sync_state == "draft"))
            for m in (Participant, Session)
        )
    return week, reached, attention


def test_empty_workspace_shows_empty_state(qtbot, unlocked_ctx):
    page = TodayPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
    assert page.chart_stack.currentWidget() is page.empty
    assert "No sessions yet" in page.empty.findChild(type(page.date_label), "empty_text").text()
    assert page.week_tile.number.text() == "0"
    with qtbot.waitSignal(unlocked_ctx.navigate) as signal:
        qtbot.mouseClick(page.empty_button, Qt.MouseButton.LeftButton)
    assert signal.args[0] == "sessions"


def test_a_coordinators_empty_today_points_to_the_inbox(qtbot, tmp_path):
    """A coordinator logs no sessions of its own: "log one" would send it to a page it has no
    use for; its empty state says where providers' records arrive and opens the Inbox."""
    from tests.conftest import PASSPHRASE
    from tests.sync.conftest import make_coordinator
    from ui.context import AppContext
    from ui.worker import StoreRunner
    from vrp_desktop.workspace import Workspace

    folder = make_coordinator(tmp_path / "coord")
    runner = StoreRunner()
    with Workspace.open(folder, "coord", PASSPHRASE) as ws:
        ctx = AppContext(ws, runner)
        page = TodayPage(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
        assert page.chart_stack.currentWidget() is page.empty
        assert "Inbox" in page.empty_text.text() and page.empty_button.text() == "Open the Inbox"
        with qtbot.waitSignal(ctx.navigate) as signal:
            qtbot.mouseClick(page.empty_button, Qt.MouseButton.LeftButton)
        assert signal.args[0] == "sync"  # the coordinator's Inbox
        wait_idle(qtbot, ctx)
        runner.shutdown()


def test_numbers_match_store_after_demo(qtbot, unlocked_ctx):
    ws = unlocked_ctx.ws
    on_store(qtbot, unlocked_ctx, demo.generate, ws, participants=80, sessions=400, seed=3)
    page = TodayPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    qtbot.waitUntil(lambda: page.data is not None, timeout=20_000)
    week, reached, _ = on_store(qtbot, unlocked_ctx, _expected, ws)
    data = page.data
    assert page.week_tile.number.text() == f"{week:,}"
    assert page.reach_tile.number.text() == f"{reached:,}"
    assert data["sessions_per_week"][-1][1] == week
    assert sum(data["reach_by_age_gender"].values()) == reached
    assert page.chart_stack.currentIndex() == 0  # charts, not the empty state
    weekly = page.weekly_view.chart().series()[0].barSets()[0]
    assert [weekly.at(i) for i in range(weekly.count())] == [
        n for _, n in data["sessions_per_week"]
    ]
    stacked = page.reach_view.chart().series()[0]
    assert sum(sum(s.at(i) for i in range(s.count())) for s in stacked.barSets()) == reached
    assert page.attention_tile.number.text() == f"{data['attention_total']:,}"
    assert page.attention_list.count() == len(data["attention"])


def test_attention_item_navigates(qtbot, unlocked_ctx):
    from vrp_desktop.services import participants

    ws = unlocked_ctx.ws
    created = on_store(
        qtbot,
        unlocked_ctx,
        participants.create_participant,
        ws,
        {"first_name": "Ari"},
        warning_reason=None,
    )
    page = TodayPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
    if created["sync_state"] != "draft":
        pytest.skip("a bare participant is valid under the current rules")
    assert page.attention_list.count() >= 1
    page.open_record("attention")
    assert page.attention_list.currentRow() == 0
    target = page.attention_list.item(0).data(Qt.ItemDataRole.UserRole + 1)
    with qtbot.waitSignal(unlocked_ctx.navigate) as signal:
        qtbot.keyClick(page.attention_list, Qt.Key.Key_Return)
    assert tuple(signal.args) == target
    # a saved change refreshes the page
    page.data = None
    unlocked_ctx.data_changed.emit("participant")
    wait_idle(qtbot, unlocked_ctx)
    qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
