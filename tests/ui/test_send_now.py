"""'Send now' on the provider's Sync page, against a real ``vrp serve`` on 127.0.0.1 (issue 14)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from tests.intake.conftest import free_port, serve  # noqa: F401 - a real intake server process
from tests.sync.conftest import pair  # noqa: F401 - a coordinator and a joined provider
from tests.ui.conftest import opened_ctx, wait_idle
from ui.pages.sync import SyncPage
from vrp_desktop.intake import client
from vrp_desktop.sync import batch_import, outbox

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _page(qtbot, ctx) -> SyncPage:
    page = SyncPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    wait_idle(qtbot, ctx)
    return page


def test_send_now_uploads_and_imports_the_receipt(qtbot, pair, serve, tmp_path):  # noqa: F811
    intake = serve(pair.coord)
    with opened_ctx(pair.prov, "manager") as ctx:
        page = _page(qtbot, ctx)
        qtbot.waitUntil(lambda: "No intake address" in page.online_label.text())
        assert not page.send_now_button.isEnabled()

        page.intake_edit.setFocus()
        qtbot.keyClicks(page.intake_edit, "http://vrp.example.org")  # not https: refused
        page.intake_save.click()
        qtbot.waitUntil(lambda: "https://" in page.message.text(), timeout=10000)

        page.intake_edit.clear()
        qtbot.keyClicks(page.intake_edit, intake.url)
        page.intake_save.click()
        qtbot.waitUntil(lambda: page.send_now_button.isEnabled(), timeout=10000)
        page.grab().save(str(tmp_path / "sync-send-now.png"))

        qtbot.mouseClick(page.send_now_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "the VRP imported it" in page.message.text(), timeout=60000)
        wait_idle(qtbot, ctx)
        assert [b["status"] for b in outbox.history(ctx.ws)] == ["receipted"]
        qtbot.waitUntil(lambda: page.history.item(0, 3).text() == "receipted", timeout=10000)
    with pair.c() as c:
        assert len(batch_import.list_batches(c)) == 1


def test_cancel_while_the_vrp_cannot_be_reached_keeps_the_batch(qtbot, pair, tmp_path):  # noqa: F811
    with opened_ctx(pair.prov, "manager") as ctx:
        client.set_intake(ctx.ws, f"http://127.0.0.1:{free_port()}")  # nobody listens there
        page = _page(qtbot, ctx)
        qtbot.waitUntil(lambda: page.send_now_button.isEnabled(), timeout=10000)
        page.send_now_button.click()
        qtbot.waitUntil(lambda: page.send_dialog is not None, timeout=20000)
        started = time.monotonic()
        button = page.send_dialog.findChild(QPushButton)
        assert button is not None and button.text() == "Cancel"
        button.click()  # the person presses Cancel during the retries
        qtbot.waitUntil(lambda: "cancelled" in page.message.text(), timeout=10000)
        assert time.monotonic() - started < 5  # Cancel does not wait out the back-off
        wait_idle(qtbot, ctx)
        assert [b["status"] for b in outbox.history(ctx.ws)] == ["sent"]
        assert len(list(pair.outbox.glob("*.vrpbatch"))) == 1  # still there for the stick
