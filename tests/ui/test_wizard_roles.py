"""The set-up wizard makes any of the three parties (issue 12): a linkage custodian and a VRP
coordinator, from an empty folder, through the window only, reach their own pages. Nothing is
set up by a service call; the store is read only at the end."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWizard

from tests.ui.conftest import settle
from ui.main_window import MainWindow
from ui.pages.custodian import CustodianPage
from ui.pages.inbox import InboxPage
from ui.wizard import FirstRunWizard
from ui.worker import StoreRunner
from vrp_desktop.sync import coordinator, linkage

pytestmark = pytest.mark.gui

PASS = "kettle orbit marmalade station"
SHOTS = Path("/tmp/shots/linkage12")


def _shoot(widget, name: str) -> None:
    if SHOTS.is_dir():
        for size in ((1280, 720), (1366, 768)):
            widget.resize(*size)
            widget.grab().save(str(SHOTS / f"{name}-{size[0]}x{size[1]}.png"))


def _through_wizard(qtbot, wizard: FirstRunWizard, kind: str, code: str, name: str) -> None:
    page = wizard.provider_page
    explained = [w.text() for w in page.findChildren(type(page.code_label))]
    assert any("never the VRP itself" in t for t in explained)  # one line per choice
    assert page.kind() == "provider"  # the usual case is chosen already
    button = page.role_buttons[kind]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    assert page.kind() == kind
    assert page.name_label.text().startswith(
        {"custodian": "Custodian", "coordinator": "Partnership"}[kind]
    )
    if kind == "custodian":
        _shoot(wizard, "wizard-role")
    qtbot.keyClicks(page.code, code)
    qtbot.keyClicks(page.name, name)
    nxt = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
    assert "linkage key" in wizard.user_page.subTitle() or kind != "custodian"
    qtbot.keyClicks(wizard.user_page.display_name, "Robin Shah")
    qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(wizard.passphrase_page.fields.first, PASS)
    qtbot.keyClicks(wizard.passphrase_page.fields.second, PASS)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.recovery_page, timeout=20_000)
    kept = wizard.recovery_page.kept
    qtbot.mouseClick(kept, Qt.MouseButton.LeftButton, pos=QPoint(8, kept.height() // 2))
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isVisible() and finish.isEnabled()  # no "What do you run?" for these
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert wizard.result() == QWizard.DialogCode.Accepted


def _window(qtbot, tmp_path, app_settings, kind: str, code: str, name: str):
    folder = tmp_path / kind
    runner = StoreRunner()
    wizard = FirstRunWizard(folder, runner)
    qtbot.addWidget(wizard)
    wizard.resize(800, 600)
    wizard.show()
    _through_wizard(qtbot, wizard, kind, code, name)
    window = MainWindow(folder, runner=runner, settings=app_settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show_unlocked(wizard.workspace)
    window.show()
    qtbot.waitExposed(window)
    return window, runner, wizard.workspace


def test_a_custodian_workspace_is_made_through_the_window_and_reaches_its_page(
    qtbot, tmp_path, app_settings
):
    window, runner, ws = _window(
        qtbot, tmp_path, app_settings, "custodian", "IG", "Partnership IG Lead"
    )
    try:
        # the window opens on the custodian's own page and offers only what a custodian has
        qtbot.waitUntil(lambda: window.current_page_name() == "sync", timeout=20_000)
        shown = [
            window.nav.item(r).text()
            for r in range(window.nav.count())
            if not window.nav.isRowHidden(r)
        ]
        assert shown == ["Linkage keys", "Settings"]
        window.navigate("participants")  # Ctrl+2: a page a custodian has no records for
        assert window.current_page_name() == "sync"
        page = window.page("sync")
        assert isinstance(page, CustodianPage)
        qtbot.waitUntil(lambda: "generation 1" in page.status_label.text().lower(), timeout=20_000)
        settle(qtbot, window.ctx)
        fingerprint = page.status_label.text()
        status = {}
        runner.submit(linkage.custodian_status, ws, on_done=status.update)
        qtbot.waitUntil(lambda: bool(status), timeout=10_000)
        assert status["fingerprint"] in fingerprint
        assert status["name"] == "Partnership IG Lead"
        assert ws.kind == "custodian" and ws.user.role == "manager"
    finally:
        window.close()
        runner.submit(ws.close)
        runner.shutdown()


def test_a_coordinator_workspace_is_made_through_the_window_and_reaches_the_inbox(
    qtbot, tmp_path, app_settings
):
    window, runner, ws = _window(
        qtbot, tmp_path, app_settings, "coordinator", "VRP", "West Midlands VRP"
    )
    try:
        qtbot.waitUntil(lambda: window.nav.item(4).text() == "Inbox", timeout=20_000)
        window.navigate("sync")
        assert window.windowTitle().startswith("Inbox")
        page = window.page("sync")
        assert isinstance(page, InboxPage)
        settle(qtbot, window.ctx)
        summary = {}
        runner.submit(coordinator.summary, ws, on_done=summary.update)
        qtbot.waitUntil(lambda: bool(summary), timeout=10_000)
        assert summary["partnership"] == "West Midlands VRP"  # its keys exist already
        assert summary["recipients"]
        assert ws.kind == "coordinator" and ws.user.role == "coordinator"
    finally:
        window.close()
        runner.submit(ws.close)
        runner.shutdown()
