"""The linkage key in the window: a provider saves a request and imports the custodian's pack
on the Sync page; the custodian issues it from its own page. Real workspaces, real age keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.sync.linkage_setup import make_custodian
from tests.ui.conftest import wait_idle
from ui.context import AppContext
from ui.pages.custodian import CustodianPage
from ui.pages.sync import SyncPage
from ui.worker import StoreRunner
from vrp_desktop.sync import coordinator, linkage, onboarding
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/linkage12")


def _shoot(page, name: str) -> None:
    if SHOTS.is_dir():
        for size in ((1280, 720), (1366, 768)):
            page.resize(*size)
            page.grab().save(str(SHOTS / f"{name}-{size[0]}x{size[1]}.png"))


@pytest.fixture
def joined(tmp_path, workspace):
    """The conftest provider workspace joined to a real coordinator, key pinned."""
    coord, _ = Workspace.create(
        tmp_path / "coord", provider_code="VRP", provider_name="West Mids VRP",
        username="coord", passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    with coord:
        pack = tmp_path / "P001.vrponboard"
        info = coordinator.add_provider(coord, code="P001", name="Test Youth Project", out=pack)
        done = onboarding.join(workspace, pack, info["one_time_code"])
        coordinator.pin_provider(coord, Path(done["key_file"]))
    return workspace


@pytest.fixture
def custodian_ctx(tmp_path, qtbot):
    folder = make_custodian(tmp_path / "cust")
    ws = Workspace.open(folder, "ig", PASSPHRASE)
    runner = StoreRunner()
    yield AppContext(ws, runner)
    runner.shutdown()
    ws.close()


def test_request_issue_and_import_through_the_window(
    qtbot, joined, unlocked_ctx, custodian_ctx, tmp_path
):
    page = SyncPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    wait_idle(qtbot, unlocked_ctx)
    assert page.linkage_box.isVisible()
    assert "No linkage key from your custodian yet" in page.linkage_label.text()
    assert "Identifiability of what the VRP holds" in page.pending_label.text()

    request = tmp_path / "request.vrplinkreq"
    page.save_request(str(request))
    qtbot.waitUntil(lambda: "Linkage request saved" in page.message.text(), timeout=20000)
    provider_fingerprint = linkage.recipient_fingerprint(linkage.read_request(request)["recipient"])
    assert provider_fingerprint in page.message.text()

    cpage = CustodianPage(custodian_ctx)
    qtbot.addWidget(cpage)
    cpage.show()
    wait_idle(qtbot, custodian_ctx)
    cpage.request_edit.setText(str(request))
    cpage.fingerprint_edit.setText("0000 1111 2222 3333 4444 5555")
    pack = tmp_path / "P001.vrplinkage"
    cpage.issue(str(pack))
    qtbot.waitUntil(lambda: "does not match this request" in cpage.message.text(), timeout=20000)
    assert not pack.exists()
    cpage.fingerprint_edit.setText(provider_fingerprint.lower())
    cpage.issue(str(pack))
    qtbot.waitUntil(lambda: cpage.issued.rowCount() == 1, timeout=20000)
    assert cpage.issued.item(0, 0).text() == "P001" and pack.is_file()
    custodian_fingerprint = linkage.custodian_status(custodian_ctx.ws)["fingerprint"]
    assert custodian_fingerprint in cpage.status_label.text()
    _shoot(cpage, "custodian")

    page.linkage_pack_edit.setText(str(pack))
    page.custodian_edit.setText("9999 9999 9999 9999 9999 9999")
    page.import_linkage()
    qtbot.waitUntil(
        lambda: "does not match this pack's custodian" in page.message.text(), timeout=20000
    )
    page.custodian_edit.setText(custodian_fingerprint)
    page.import_linkage()
    qtbot.waitUntil(lambda: "generation 1 from" in page.linkage_label.text(), timeout=20000)
    assert "old key was destroyed" in page.message.text()
    assert not page.custodian_edit.isVisible()  # pinned now: asked only the first time
    _shoot(page, "sync-provider")
