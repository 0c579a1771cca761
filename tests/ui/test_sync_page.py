"""The provider's Sync page on a real workspace: join, quarantine, build, receipt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.ui.conftest import wait_idle
from ui.pages.sync import SyncPage
from vrp_desktop.services import participants
from vrp_desktop.sync import batch_import, coordinator
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui

PERSON = {
    "first_name": "Amara", "last_name": "Osei", "date_of_birth": "2010-05-06", "gender": "female",
    "ethnicity": "black_african", "consent_status": "given", "consent_date": "2025-02-01",
}  # fmt: skip


@pytest.fixture
def vrp(tmp_path):
    ws, _ = Workspace.create(
        tmp_path / "coord", provider_code="VRP", provider_name="West Mids VRP",
        username="coord", passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    pack = tmp_path / "P001.vrponboard"
    info = coordinator.add_provider(ws, code="P001", name="Test Youth Project", out=pack)
    yield ws, pack, info["one_time_code"]
    ws.close()


def test_join_quarantine_build_and_receipt(qtbot, unlocked_ctx, vrp, tmp_path):
    coord, pack, code = vrp
    good = participants.create_participant(unlocked_ctx.ws, PERSON)
    bad = participants.create_participant(unlocked_ctx.ws, {"first_name": "Kai"})
    page = SyncPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    wait_idle(qtbot, unlocked_ctx)
    assert page.join_form.isVisible() or not page.isVisible()
    assert not page.build_button.isEnabled()

    page.pack_edit.setText(str(pack))
    page.code_edit.setText("WRONG-WRONG-WRONG-WRONG")
    page.join_button.click()
    qtbot.waitUntil(lambda: "does not open" in page.message.text(), timeout=20000)

    page.code_edit.setText(code)
    page.join_button.click()
    qtbot.waitUntil(lambda: "Sending to" in page.vrp_label.text(), timeout=20000)
    assert "fingerprint" in page.message.text()
    key_file = Path(tmp_path / "provider-key-P001.vrpkey")
    coordinator.pin_provider(coord, key_file)

    box = tmp_path / "outbox"
    box.mkdir()
    page.set_outbox(str(box))
    qtbot.waitUntil(lambda: page.build_button.isEnabled())
    assert str(box) in page.outbox_label.text()
    ids = [page.quarantine.item(r, 0).data(0x0100)[1] for r in range(page.quarantine.rowCount())]
    assert bad["id"] in ids and good["id"] not in ids
    row = ids.index(bad["id"])
    assert "date of birth" in page.quarantine.item(row, 2).text().lower()
    with qtbot.waitSignal(unlocked_ctx.navigate) as blocker:
        page.quarantine.itemDoubleClicked.emit(page.quarantine.item(row, 1))
    assert blocker.args == ["participants", bad["id"]]

    page.build_batch()
    qtbot.waitUntil(lambda: page.last_built is not None, timeout=10000)
    qtbot.waitUntil(lambda: page.history.rowCount() == 1)
    assert page.history.item(0, 3).text() == "sent"
    report = batch_import.import_batch(coord, page.last_built["file"])
    page.import_receipt(report.receipt)
    qtbot.waitUntil(lambda: "Receipt imported" in page.message.text(), timeout=10000)
    qtbot.waitUntil(lambda: page.history.item(0, 3).text() == "receipted")
    assert participants.get_participant(unlocked_ctx.ws, good["id"])["sync_state"] == "accepted"
    page.grab().save(str(tmp_path / "sync-page.png"))
