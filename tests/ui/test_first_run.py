"""First run: the wizard creates the workspace, shows the recovery code once and will not
finish until the person says they kept it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from ui.wizard import FirstRunWizard
from ui.worker import StoreRunner
from vrp_desktop.services import users
from vrp_desktop.store.files import is_workspace
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui

PASS = "kettle orbit marmalade station"


@pytest.fixture
def wizard(qtbot, tmp_path):
    runner = StoreRunner()
    wiz = FirstRunWizard(tmp_path / "new-ws", runner)
    qtbot.addWidget(wiz)
    wiz.show()
    yield wiz
    if wiz.workspace is not None:
        runner.submit(wiz.workspace.close)
    runner.shutdown()


def ask(qtbot, runner: StoreRunner, fn, *args):
    """Run ``fn(*args)`` on the store thread and wait for the answer (tests only)."""
    answers: list = []
    runner.submit(fn, *args, on_done=answers.append, on_error=answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    assert not isinstance(answers[0], BaseException), answers[0]
    return answers[0]


def _next(wiz: QWizard):
    return wiz.button(QWizard.WizardButton.NextButton)


def test_first_run_creates_workspace(qtbot, wizard: FirstRunWizard, tmp_path):
    folder = tmp_path / "new-ws"
    provider = wizard.provider_page
    assert not _next(wizard).isEnabled()
    qtbot.keyClicks(provider.code, "P014")
    qtbot.keyClicks(provider.name, "Northside Youth Project")
    assert _next(wizard).isEnabled()
    qtbot.mouseClick(_next(wizard), Qt.MouseButton.LeftButton)

    page = wizard.user_page
    qtbot.keyClicks(page.display_name, "Jo Patel")
    assert page.username.text() == "jo.patel"  # suggested from the name
    qtbot.mouseClick(_next(wizard), Qt.MouseButton.LeftButton)

    pp = wizard.passphrase_page
    commit = wizard.button(QWizard.WizardButton.CommitButton)
    qtbot.keyClicks(pp.fields.first, "short")
    assert "weak" in pp.fields.verdict.text()
    assert not commit.isEnabled()
    pp.fields.first.clear()
    qtbot.keyClicks(pp.fields.first, PASS)
    assert pp.fields.meter.value() >= 2
    qtbot.keyClicks(pp.fields.second, PASS[:-1])
    assert not commit.isEnabled()  # not matching yet
    qtbot.keyClicks(pp.fields.second, PASS[-1])
    assert commit.isEnabled()
    assert not is_workspace(folder)
    qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.recovery_page, timeout=10_000)

    assert is_workspace(folder)
    recovery = wizard.recovery_page
    code = wizard.recovery_code
    assert code and recovery.code.text() == code
    assert not _next(wizard).isEnabled()
    assert not wizard.button(QWizard.WizardButton.CancelButton).isVisible()
    wizard.reject()  # Escape/close cannot skip the code once the keys exist
    assert wizard.isVisible()

    saved = tmp_path / "code.txt"
    recovery.save_to(saved)
    assert code in saved.read_text()
    qtbot.mouseClick(recovery.kept, Qt.MouseButton.LeftButton)
    assert _next(wizard).isEnabled()
    qtbot.mouseClick(_next(wizard), Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.interventions_page  # "What do you run?" (skipped)
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isEnabled()
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert wizard.result() == QWizard.DialogCode.Accepted

    ws = wizard.workspace
    assert ws.user.username == "jo.patel"
    assert ws.user.display_name == "Jo Patel"
    assert ws.user.role == "manager"
    # what the store holds: the provider, the user, and both ways in work
    assert ask(qtbot, wizard.runner, lambda: ws.own_provider().code) == "P014"
    assert ask(qtbot, wizard.runner, lambda: ws.own_provider().name) == "Northside Youth Project"
    listed = ask(qtbot, wizard.runner, users.list_users, ws)
    assert [(u["username"], u["role"]) for u in listed] == [("jo.patel", "manager")]
    ask(qtbot, wizard.runner, ws.close)
    wizard.workspace = None
    Workspace.open(folder, "jo.patel", PASS).close()
    Workspace.open_with_recovery(folder, code, "jo.patel").close()


def test_username_with_spaces_is_refused(qtbot, wizard: FirstRunWizard):
    qtbot.keyClicks(wizard.provider_page.code, "P1")
    qtbot.keyClicks(wizard.provider_page.name, "X")
    wizard.next()
    page = wizard.user_page
    qtbot.keyClicks(page.display_name, "Jo")
    page.username.clear()
    qtbot.keyClicks(page.username, "jo patel")
    assert not _next(wizard).isEnabled()
    assert "spaces" in page.problem.text()
