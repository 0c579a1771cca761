"""The Sync page shows the partnership's small-group rule with k before and after (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import wait_idle
from tests.ui.test_linkage_pages import joined  # noqa: F401 (a fixture)
from ui.pages.sync import SyncPage

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/linkage12")


def test_the_sync_page_shows_the_rule_and_k_before_and_after(qtbot, joined, unlocked_ctx):  # noqa: F811
    page = SyncPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    wait_idle(qtbot, unlocked_ctx)
    qtbot.waitUntil(lambda: "Partnership rule" in page.rule_label.text(), timeout=20_000)
    text = page.rule_label.text()
    assert "groups of at least 5" in text
    assert "No young people to measure yet" in text  # this workspace has sent nobody yet
    assert page.rule_label.isVisible()
    if SHOTS.is_dir():
        for size in ((1280, 720), (1366, 768)):
            page.resize(*size)
            page.grab().save(str(SHOTS / f"sync-rule-{size[0]}x{size[1]}.png"))
