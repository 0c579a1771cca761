"""The Inbox shows records held back until what they refer to arrives (issue 10)."""

from __future__ import annotations

import pytest

from tests.sync.conftest import pair  # noqa: F401 - the coordinator/provider pair fixture
from tests.sync.resign import resign
from tests.ui.conftest import opened_ctx, wait_idle
from ui.pages.inbox import InboxPage
from vrp_desktop.sync import batch_build, batch_import

pytestmark = pytest.mark.gui


def test_waiting_records_are_listed_then_cleared(qtbot, pair, tmp_path):  # noqa: F811
    with pair.p() as p:
        built = batch_build.build_batch(p)["file"]

    def without_interventions(records):
        records["intervention"] = []

    def only_interventions(records):
        for entity in list(records):
            if entity != "intervention":
                records[entity] = []

    early = resign(pair, built, without_interventions, tmp_path / "early.vrpbatch")
    late = resign(pair, built, only_interventions, tmp_path / "late.vrpbatch")

    with opened_ctx(pair.coord, "coord") as ctx:
        ws = ctx.ws
        page = InboxPage(ctx)
        qtbot.addWidget(page)
        page.resize(1366, 768)
        wait_idle(qtbot, ctx)
        qtbot.waitUntil(lambda: "Nothing is waiting" in page.pending_note.text())

        page.import_files([str(early)])
        qtbot.waitUntil(lambda: page.pending_table.rowCount() > 0, timeout=15000)
        wait_idle(qtbot, ctx)
        held_back = {
            (page.pending_table.item(r, 1).text(), page.pending_table.item(r, 2).text())
            for r in range(page.pending_table.rowCount())
        }
        assert held_back == {(w["entity"], w["record_id"]) for w in batch_import.list_pending(ws)}
        assert "kept, not rejected" in page.pending_note.text()
        assert all(
            "intervention" in page.pending_table.item(r, 4).text()
            or "enrolment" in page.pending_table.item(r, 4).text()
            for r in range(page.pending_table.rowCount())
        )

        page.import_files([str(late)])
        qtbot.waitUntil(lambda: page.pending_table.rowCount() == 0, timeout=15000)
        assert "Nothing is waiting" in page.pending_note.text()
