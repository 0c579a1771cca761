"""The Sync page shows the partnership's small-group rule with k before and after (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import wait_idle
from tests.ui.test_linkage_pages import joined  # noqa: F401 (a fixture)
from ui.pages.sync import SyncPage
from vrp_desktop.services import demo
from vrp_desktop.sync import batch_build, outbox, quasi

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/linkage12")
SHOTS_RESEND = Path("/tmp/shots/district12")


def _sync_page(qtbot, ctx, waiting_for: str) -> SyncPage:
    """The Sync page shown at 1366x768, once its rule line says ``waiting_for``."""
    page = SyncPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: waiting_for in page.rule_label.text(), timeout=20_000)
    return page


def _shoot(page: SyncPage, folder: Path, name: str) -> None:
    """Screenshots at both sizes, when someone made ``folder`` to look at them."""
    if folder.is_dir():
        for size in ((1280, 720), (1366, 768)):
            page.resize(*size)
            page.grab().save(str(folder / f"{name}-{size[0]}x{size[1]}.png"))


def test_the_sync_page_shows_the_rule_and_k_before_and_after(qtbot, joined, unlocked_ctx):  # noqa: F811
    page = _sync_page(qtbot, unlocked_ctx, "Partnership rule")
    text = page.rule_label.text()
    assert "groups of at least 5" in text
    assert "No young people to measure yet" in text  # this workspace has sent nobody yet
    assert page.rule_label.isVisible()
    _shoot(page, SHOTS, "sync-rule")


def test_the_sync_page_says_which_held_records_a_new_rule_sends_again(
    qtbot,
    joined,  # noqa: F811
    unlocked_ctx,
    tmp_path,
):
    ws = joined
    demo.generate(ws, participants=20, sessions=10, seed=7)
    (tmp_path / "box").mkdir()
    outbox.set_outbox_folder(ws, tmp_path / "box")
    rule = ws.setting(quasi.RULE)
    with ws.unit() as s:  # sent before the partnership published its rule
        ws.set_setting(s, quasi.RULE, "")
    assert quasi.rule_of(ws) is None
    batch_build.build_batch(ws)
    with ws.unit() as s:  # the rule arrives (as a framework pack import stores it)
        ws.set_setting(s, quasi.RULE, rule)
    due = batch_build.preview(ws)["resend"]["records"]
    assert due > 0

    page = _sync_page(qtbot, unlocked_ctx, "will be sent again")
    assert f"{due} records the VRP already holds will be sent again" in page.rule_label.text()
    assert page.build_button.isEnabled()  # the re-sends are work for the next batch
    _shoot(page, SHOTS_RESEND, "sync-resend")

    page.build_batch()
    qtbot.waitUntil(lambda: page.last_built is not None, timeout=20_000)
    assert f"{due} records the VRP already held were sent again" in page.message.text()
    assert page.last_built["disclosure"]["resent"]["records"] == due
