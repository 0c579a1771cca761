"""The Qt models: qtmodeltester on each, and lazy paging over a few thousand participants."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_idle
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
    assert model.total == 2000
    assert model.rowCount() == 200
    assert model.canFetchMore()
    model.fetchMore()  # read on the store thread; the GUI carries on meanwhile
    assert model.loading
    model.fetchMore()  # a second request while one is pending is ignored
    qtbot.waitUntil(lambda: model.rowCount() == 400, timeout=5000)
    assert not model.loading
    expected = participants.list_participants(demo_ctx.ws, "", offset=200, limit=1)[0]
    assert model.index(200, COL_NAME).data(RecordIdRole) == expected["id"]
    qtmodeltester.check(model, force_py=True)


def test_participants_model_search_and_filters_reset(qtbot, qtmodeltester, demo_ctx):
    model = ParticipantsModel(demo_ctx)
    first = participants.list_participants(demo_ctx.ws, "", limit=1)[0]
    text = first["last_name"][:3]
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_query(text)
    assert resets
    assert model.total == participants.count_participants(demo_ctx.ws, text)
    names = {model.index(r, COL_NAME).data() for r in range(model.rowCount())}
    assert first["display_name"] in names
    model.set_query("", age_band="14-15", status="all")
    assert model.filters == {"age_band": "14-15"}
    assert model.total == participants.count_participants(demo_ctx.ws, "", age_band="14-15")
    # a page still in flight when the query changes is dropped, not mixed in
    model.set_query("")
    model.fetchMore()
    model.set_query("", age_band="14-15")
    wait_idle(qtbot, demo_ctx)
    assert model.rowCount() == min(200, model.total)
    model.set_query("zzzzqqq")
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
