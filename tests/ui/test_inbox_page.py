"""The coordinator's Inbox page on real workspaces: onboard, pin, dry run, import."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.ui.conftest import wait_idle
from ui.context import AppContext
from ui.pages.inbox import InboxPage
from ui.worker import StoreRunner
from vrp_desktop.services import demo
from vrp_desktop.sync import batch_build, onboarding
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui


@pytest.fixture
def coord_ctx(tmp_path, qtbot):
    ws, _ = Workspace.create(
        tmp_path / "coord", provider_code="VRP", provider_name="West Mids VRP",
        username="coord", passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    runner = StoreRunner()
    yield AppContext(ws, runner)
    runner.shutdown()
    ws.close()


def test_onboard_pin_dry_run_and_import(qtbot, coord_ctx, workspace, tmp_path):
    page = InboxPage(coord_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    wait_idle(qtbot, coord_ctx)
    qtbot.waitUntil(lambda: "signing fingerprint" in page.vrp_label.text(), timeout=20000)

    page.code_edit.setText("P001")
    page.name_edit.setText("Test Youth Project")
    pack = tmp_path / "P001.vrponboard"
    page.add_provider(str(pack))
    qtbot.waitUntil(lambda: "ONE-TIME CODE" in page.message.text(), timeout=30000)  # Argon2id
    code = page.message.text().split("ONE-TIME CODE: ")[1].split()[0]
    qtbot.waitUntil(lambda: page.provider_table.rowCount() == 1)
    assert "waiting" in page.provider_table.item(0, 2).text()

    demo.generate(workspace, participants=20, sessions=60, seed=2)
    joined = onboarding.join(workspace, pack, code)
    page.load_key_file(joined["key_file"])
    assert joined["provider_fingerprint"] in page.pin_label.text()
    page.confirm_pin()
    qtbot.waitUntil(lambda: "pinned" in page.provider_table.item(0, 2).text())

    box = tmp_path / "box"
    box.mkdir()
    built = batch_build.build_batch(workspace, outbox_folder=box)
    page.dry_run.setChecked(True)
    page.import_files([built["file"]])
    qtbot.waitUntil(lambda: "would import" in page.message.text(), timeout=10000)
    assert page.batch_table.rowCount() == 0

    page.dry_run.setChecked(False)
    page.import_files([built["file"]])
    qtbot.waitUntil(lambda: page.batch_table.rowCount() == 1, timeout=10000)
    assert page.batch_table.item(0, 0).text() == "P001"
    assert Path(page.last_reports[0].receipt).exists()

    page.import_files([built["file"]])  # a replay: said clearly, nothing imported
    qtbot.waitUntil(lambda: "already imported" in page.message.text(), timeout=10000)
    page.batch_table.selectRow(0)
    wait_idle(qtbot, coord_ctx)
    page.grab().save(str(tmp_path / "inbox-page.png"))
