"""The Qt models: qtmodeltester on each, and lazy paging over a few thousand participants."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_idle, wait_ready
from ui.models.participants_model import COL_NAME, ParticipantsModel, RecordIdRole
from ui.models.register_model import COL_NOTE, COL_STATUS, RegisterModel, RegisterRow
from ui.models.sessions_model import COL_WHEN, SessionsModel
from vrp_desktop.services import demo, participants, sessions

pytestmark = pytest.mark.gui


@pytest.fixture
def demo_ctx(unlocked_ctx):
    demo.generate(unlocked_ctx.ws, participants=2000, sessions=200, seed=3)
    return unlocked_ctx


def test_participants_model_pages_lazily(qtbot, qtmodeltester, demo_ctx):
    model = ParticipantsModel(demo_ctx)
    model.set_query("")
    assert model.refreshing  # read on the store thread: the GUI does not wait
    wait_ready(qtbot, model)
    assert model.total == 2000
    first = model.first_page_size
    assert first < 200 and model.rowCount() == first  # what a window shows, painted at once
    assert model.canFetchMore()
    model.fetchMore()  # read on the store thread; the GUI carries on meanwhile
    assert model.loading
    model.fetchMore()  # a second request while one is pending is ignored
    qtbot.waitUntil(lambda: model.rowCount() == first + 200, timeout=5000)
    assert not model.loading
    expected = participants.list_participants(demo_ctx.ws, "", offset=first, limit=1)[0]
    assert model.index(first, COL_NAME).data(RecordIdRole) == expected["id"]
    qtmodeltester.check(model, force_py=True)


def test_participants_model_search_and_filters_reset(qtbot, qtmodeltester, demo_ctx):
    model = ParticipantsModel(demo_ctx)
    first = participants.list_participants(demo_ctx.ws, "", limit=1)[0]
    text = first["last_name"][:3]
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_query(text)
    wait_ready(qtbot, model)
    assert resets
    assert model.total == participants.count_participants(demo_ctx.ws, text)
    names = {model.index(r, COL_NAME).data() for r in range(model.rowCount())}
    assert first["display_name"] in names
    model.set_query("", age_band="14-15", status="all")
    wait_ready(qtbot, model)
    assert model.filters == {"age_band": "14-15"}
    assert model.total == participants.count_participants(demo_ctx.ws, "", age_band="14-15")
    # a page still in flight when the query changes is dropped, not mixed in
    model.set_query("")
    model.fetchMore()
    model.set_query("", age_band="14-15")
    wait_idle(qtbot, demo_ctx)
    assert model.rowCount() == min(model.first_page_size, model.total)
    model.set_query("zzzzqqq")
    wait_ready(qtbot, model)
    assert model.total == 0 and model.rowCount() == 0 and not model.canFetchMore()
    qtmodeltester.check(model, force_py=True)


def test_sessions_model_newest_first_with_filter(qtmodeltester, demo_ctx):
    model = SessionsModel(demo_ctx, page_size=50, asynchronous=False)
    model.set_intervention(None)
    assert model.total == sessions.count_sessions(demo_ctx.ws)
    assert model.total > 150 and model.rowCount() == 50
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == model.total
    starts = [model.index(r, COL_WHEN).data(0x0100) for r in range(model.rowCount())]
    assert starts == sorted(starts, reverse=True)
    first = model.row_at(0)
    model.set_intervention(first["intervention_id"])
    assert model.total == sessions.count_sessions(
        demo_ctx.ws, intervention_id=first["intervention_id"]
    )
    assert all(
        model.row_at(r)["intervention_id"] == first["intervention_id"]
        for r in range(model.rowCount())
    )
    qtmodeltester.check(model, force_py=True)


def test_register_model(qtmodeltester):
    model = RegisterModel()
    model.set_rows([RegisterRow(f"p{i}", f"YP-{i}", f"Person {i}") for i in range(5)])
    model.toggle(1)
    model.set_status(3, "late")
    assert model.attendees() == [
        {"participant_id": "p1", "status": "attended"},
        {"participant_id": "p3", "status": "late"},
    ]
    assert model.setData(model.index(3, COL_STATUS), "absent")
    assert model.ticked_count() == 1
    assert model.add(RegisterRow("p1", "YP-1", "Person 1", ticked=True)) == 1
    assert model.rowCount() == 5
    model.set_enrolled({"p0": False})
    assert model.index(0, COL_NOTE).data() == "Not enrolled"
    # a roster row left unticked is saved as an absence; a walk-in left unticked is not saved
    model.add(RegisterRow("p9", "YP-9", "Person 9", source="roster"))
    assert model.attendees()[-1] == {"participant_id": "p9", "status": "absent"}
    assert model.index(5, COL_STATUS).data() == "Absent"
    qtmodeltester.check(model, force_py=True)


def test_search_paints_its_first_page_before_counting_and_caps_the_count(
    qtbot, demo_ctx, monkeypatch
):
    monkeypatch.setattr("ui.models.participants_model.COUNT_CAP", 150)
    model = ParticipantsModel(demo_ctx, page_size=100)
    order: list[str] = []
    model.refreshed.connect(lambda: order.append(f"rows {model.rowCount()}"))
    model.counted.connect(lambda: order.append(f"count {model.total}"))
    text = "a"  # a one-letter prefix: hundreds of the 2,000 people
    exact = participants.count_participants(demo_ctx.ws, text)
    assert exact > 150
    model.set_query(text)
    qtbot.waitUntil(lambda: not model.refreshing, timeout=5000)
    first = model.first_page_size
    assert model.rowCount() == first and model.canFetchMore()
    wait_ready(qtbot, model)
    # the rows were shown before the count was taken
    assert order == [f"rows {first}", "count 150"]
    assert model.total_capped and model.total == 150
    assert participants.count_participants(demo_ctx.ws, text, cap=150) == 151
    while model.canFetchMore():  # scrolling past the cap still reaches everyone
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=5000)
    assert model.rowCount() == exact == model.total
    model.set_query("zzzzqq")  # a page that is not full is its own count, with no second job
    wait_ready(qtbot, model)
    assert model.total == 0 and not model.total_capped and not model.canFetchMore()
