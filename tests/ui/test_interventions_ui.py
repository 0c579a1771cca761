"""Interventions through the window only: the set-up wizard's "What do you run?" from an empty
folder, Settings → Interventions (add, edit, close, reopen, show closed), the dialog's keyboard
(label letters, Tab order, Esc) and its refusals, and the Sync page's offer after joining."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWizard

from tests.conftest import PASSPHRASE
from tests.ui.conftest import wait_idle
from ui.forms.intervention_form import ROWS, SAVE_TEXT, InterventionDialog
from ui.wizard import FirstRunWizard
from ui.worker import StoreRunner
from vrp_desktop.services import interventions
from vrp_desktop.workspace import Workspace

pytestmark = pytest.mark.gui

PASS = "kettle orbit marmalade station"


def ask(qtbot, runner: StoreRunner, fn, *args, **kwargs):
    """Run ``fn`` on the store thread and wait for its answer (the GUI thread never does)."""
    answers: list = []
    runner.submit(fn, *args, on_done=answers.append, on_error=answers.append, **kwargs)
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    assert not isinstance(answers[0], BaseException), answers[0]
    return answers[0]


def _loaded(qtbot, dialog: InterventionDialog) -> None:
    qtbot.waitUntil(lambda: bool(dialog.choices), timeout=10_000)


def _type(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def _fill_football(qtbot, dialog: InterventionDialog, name: str = "Friday football") -> None:
    """Type into the dialog as a person would: text, and first letters to pick from lists."""
    _loaded(qtbot, dialog)
    _type(qtbot, dialog.name, name)
    _type(qtbot, dialog.framework, "Sp")  # Sports-based diversion
    _type(qtbot, dialog.delivery, "G")  # Group
    _type(qtbot, dialog.weekday, "F")  # Friday
    _type(qtbot, dialog.time, "18:00")
    dialog.minutes.setFocus()
    dialog.minutes.selectAll()
    qtbot.keyClicks(dialog.minutes, "90")
    _type(qtbot, dialog.setting, "C")  # Community
    _type(qtbot, dialog.location, "Sp")  # Sports hall


# -- the wizard ----------------------------------------------------------------------------------


def test_wizard_from_an_empty_folder_to_a_workspace_with_one_intervention(qtbot, tmp_path):
    folder = tmp_path / "new-ws"
    runner = StoreRunner()
    wizard = FirstRunWizard(folder, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    nxt = wizard.button(QWizard.WizardButton.NextButton)
    try:
        qtbot.keyClicks(wizard.provider_page.code, "P014")
        qtbot.keyClicks(wizard.provider_page.name, "Northside Youth Project")
        qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(wizard.user_page.display_name, "Jo Patel")
        qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(wizard.passphrase_page.fields.first, PASS)
        qtbot.keyClicks(wizard.passphrase_page.fields.second, PASS)
        commit = wizard.button(QWizard.WizardButton.CommitButton)
        qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: wizard.currentPage() is wizard.recovery_page, timeout=15_000)
        qtbot.mouseClick(wizard.recovery_page.kept, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)

        # "What do you run?", from the keyboard: Enter opens the form, a label's letter goes
        # to its field, first letters pick from a list, Enter saves, Enter again finishes
        page = wizard.interventions_page
        assert wizard.currentPage() is page
        assert page.title() == "What do you run?"
        wizard.activateWindow()
        qtbot.waitActive(wizard)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is page.add_button)
        qtbot.keyClick(page.add_button, Qt.Key.Key_Return)
        dialog = page.dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.waitActive(dialog)
        _loaded(qtbot, dialog)
        assert QApplication.focusWidget() is dialog.name
        for letter, typed in (
            (None, "Friday football"),
            (Qt.Key.Key_F, "Sp"),  # Framework: Sports-based diversion
            (Qt.Key.Key_D, "G"),  # Delivery: Group
            (Qt.Key.Key_Y, "F"),  # Usual day: Friday
            (Qt.Key.Key_I, "18:00"),  # Usual time
            (Qt.Key.Key_L, "90"),  # Usual length
            (Qt.Key.Key_S, "C"),  # Setting: Community
            (Qt.Key.Key_O, "Sp"),  # Usual location: Sports hall
        ):
            if letter is not None:
                qtbot.keyClick(QApplication.focusWidget(), letter, Qt.KeyboardModifier.AltModifier)
            qtbot.keyClicks(QApplication.focusWidget(), typed)
        assert dialog.save_button.isEnabled()
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # Enter saves
        qtbot.waitUntil(lambda: page.list.count() == 1, timeout=10_000)
        assert dialog.result() == QDialog.DialogCode.Accepted
        listed = page.list.item(0).text()
        assert "Friday football" in listed and "Sports-based diversion" in listed
        assert "Fridays 18:00" in listed and "90 min" in listed and "Group" in listed

        finish = wizard.button(QWizard.WizardButton.FinishButton)
        qtbot.waitUntil(lambda: wizard.focusWidget() is finish)  # the wizard's focused widget
        qtbot.keyClick(wizard.focusWidget(), Qt.Key.Key_Return)
        assert wizard.result() == QWizard.DialogCode.Accepted
        ask(qtbot, runner, wizard.workspace.close)
        wizard.workspace = None
    finally:
        if wizard.workspace is not None:
            ask(qtbot, runner, wizard.workspace.close)
        runner.shutdown()

    # what the store holds: exactly that one intervention, as typed
    with Workspace.open(folder, "jo.patel", PASS) as ws:
        (row,) = interventions.list_interventions(ws, active_only=False)
    assert row["name"] == "Friday football" and row["framework_id"] == "sports_diversion"
    assert row["delivery"] == "group" and row["usual_weekday"] == 4
    assert (row["usual_time"], row["usual_minutes"]) == ("18:00", 90)
    assert row["setting"] == "community" and row["usual_location_type"] == "sports_hall"
    assert row["usual_mode"] == "in_person"  # the framework's only mode, chosen for you
    assert row["active"] and row["version"] == 1 and row["sync_state"] == "valid"


# -- the dialog's keyboard and refusals ----------------------------------------------------------


def _mnemonic(text: str) -> str:
    found = re.search(r"&(\w)", text)
    assert found, f"no underlined letter in {text!r}"
    return found.group(1).lower()


def test_every_label_focuses_its_field_with_a_letter_of_its_own(qtbot, unlocked_ctx):
    dialog = InterventionDialog(unlocked_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    _loaded(qtbot, dialog)
    labels = [w for w in dialog.findChildren(QLabel) if "&" in w.text()]
    assert len(labels) == len(ROWS)
    letters = [_mnemonic(label.text()) for label in labels]
    assert len(set(letters)) == len(letters)
    assert _mnemonic(SAVE_TEXT) not in letters
    for label in labels:
        assert label.buddy() is not None and label.buddy().focusPolicy() != Qt.FocusPolicy.NoFocus

    # Tab goes straight down the form, then Save, then Cancel (pressed, one key each)
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    order = [getattr(dialog, attribute) for _text, attribute in ROWS]
    order += [dialog.save_button, dialog.cancel_button]
    qtbot.keyClicks(dialog.name, "Drop-in")
    _type(qtbot, dialog.framework, "Sp")
    _type(qtbot, dialog.setting, "C")  # Save is enabled (and so reachable) once these are in
    assert dialog.save_button.isEnabled()
    dialog.name.setFocus()
    seen = []
    for _ in order:
        focused = QApplication.focusWidget()
        seen.append(focused if focused in order else focused.parent())  # a spin box's editor
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    assert seen == order


def test_alt_letter_and_esc(qtbot, unlocked_ctx):
    dialog = InterventionDialog(unlocked_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    _loaded(qtbot, dialog)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.weekday
    qtbot.keyClick(dialog.weekday, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.lead
    qtbot.keyClick(dialog.lead, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


def test_a_refused_value_shows_what_to_do_and_stores_nothing(qtbot, unlocked_ctx):
    before = ask(qtbot, unlocked_ctx.runner, interventions.list_interventions, unlocked_ctx.ws,
                 active_only=False)  # fmt: skip
    dialog = InterventionDialog(unlocked_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    _fill_football(qtbot, dialog, "Saturday boxing")
    dialog.time.clear()
    qtbot.keyClicks(dialog.time, "25:00")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert "not a time of day" in dialog.error.text() and "18:00" in dialog.error.text()
    assert dialog.isVisible() and dialog.saved is None
    after = ask(qtbot, unlocked_ctx.runner, interventions.list_interventions, unlocked_ctx.ws,
                active_only=False)  # fmt: skip
    assert after == before

    # a name already in use is refused the same way; the framework pickers show labels only
    dialog.time.clear()
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Friday Football")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "already an intervention" in dialog.error.text(), timeout=10_000)
    shown = [dialog.location.itemText(i) for i in range(dialog.location.count())]
    assert "Sports hall" in shown and "sports_hall" not in shown


# -- Settings → Interventions -------------------------------------------------------------------


def _box(qtbot, main_window):
    main_window.navigate("settings")
    box = main_window.page("settings").interventions_box
    qtbot.waitUntil(lambda: box.table.rowCount() == 4, timeout=10_000)  # the conftest's four
    return box


def _row_of(box, name: str) -> int:
    names = [box.table.item(r, 0).text() for r in range(box.table.rowCount())]
    return names.index(name)


def test_settings_add_edit_close_reopen(qtbot, main_window):
    box = _box(qtbot, main_window)
    runner, ws = main_window.runner, main_window.ctx.ws

    # add
    qtbot.mouseClick(box.add_button, Qt.MouseButton.LeftButton)
    _fill_football(qtbot, box.dialog, "Tuesday football")
    qtbot.mouseClick(box.dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.table.rowCount() == 5, timeout=10_000)
    row = _row_of(box, "Tuesday football")
    assert "Fridays 18:00" in box.table.item(row, 1).text()
    assert box.table.item(row, 3).text() == "Open"

    # edit: the day and the time
    box.table.selectRow(row)
    qtbot.mouseClick(box.edit_button, Qt.MouseButton.LeftButton)
    dialog = box.dialog
    _loaded(qtbot, dialog)
    assert dialog.name.text() == "Tuesday football" and not dialog.framework.isEnabled()
    _type(qtbot, dialog.weekday, "Tu")
    dialog.time.clear()
    qtbot.keyClicks(dialog.time, "17:30")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    def runs_as() -> str:
        return box.table.item(_row_of(box, "Tuesday football"), 1).text()

    qtbot.waitUntil(lambda: "Tuesdays 17:30" in runs_as(), timeout=10_000)
    stored = ask(qtbot, runner, interventions.find_intervention, ws, "Tuesday football")
    assert stored["version"] == 2 and stored["usual_weekday"] == 1
    assert stored["usual_time"] == "17:30" and stored["usual_minutes"] == 90

    # close, with a reason; it leaves the list until "Show closed"
    box.table.selectRow(_row_of(box, "Tuesday football"))
    assert box.close_button.isEnabled() and not box.reopen_button.isEnabled()
    qtbot.mouseClick(box.close_button, Qt.MouseButton.LeftButton)
    ask_box = box.findChild(QDialog, "close_intervention_dialog")
    assert ask_box is not None and ask_box.isVisible()
    qtbot.keyClicks(ask_box.reason, "Hall closed for the winter")
    qtbot.keyClick(ask_box.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: box.table.rowCount() == 4, timeout=10_000)
    stored = ask(qtbot, runner, interventions.find_intervention, ws, "Tuesday football")
    assert stored["active"] is False and stored["closed_on"] and stored["version"] == 3

    qtbot.mouseClick(box.show_closed, Qt.MouseButton.LeftButton)
    assert box.table.rowCount() == 5
    row = _row_of(box, "Tuesday football")
    assert box.table.item(row, 3).text().startswith("Closed")
    box.table.selectRow(row)
    assert box.reopen_button.isEnabled() and not box.close_button.isEnabled()
    qtbot.mouseClick(box.reopen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: box.table.item(_row_of(box, "Tuesday football"), 3).text() == "Open",
        timeout=10_000,
    )
    assert "Reopened" in box.message.text()
    stored = ask(qtbot, runner, interventions.find_intervention, ws, "Tuesday football")
    assert stored["active"] is True and stored["version"] == 4


def test_settings_mnemonics_do_not_clash(qtbot, main_window):
    box = _box(qtbot, main_window)
    page = main_window.page("settings")
    from PySide6.QtWidgets import QAbstractButton

    texts = [b.text() for b in page.findChildren(QAbstractButton) if "&" in b.text()]
    texts += [w.text() for w in page.findChildren(QLabel) if "&" in w.text() and w.buddy()]
    letters = [_mnemonic(t) for t in texts if t.replace("&&", "").count("&")]
    assert len(letters) == len(set(letters)), sorted(texts)
    assert box.add_button.text() in texts


# -- the Sync page offers set-up after joining ---------------------------------------------------


def test_sync_page_offers_to_set_up_interventions_after_joining(qtbot, tmp_path):
    from ui.context import AppContext
    from ui.pages.sync import SyncPage
    from vrp_desktop.sync import coordinator

    coord, _ = Workspace.create(
        tmp_path / "coord", provider_code="VRP", provider_name="West Mids VRP",
        username="coord", passphrase=PASSPHRASE, role="coordinator", kind="coordinator",
    )  # fmt: skip
    pack = tmp_path / "P001.vrponboard"
    info = coordinator.add_provider(coord, code="P001", name="Test Youth Project", out=pack)
    coord.close()
    prov, _ = Workspace.create(
        tmp_path / "prov", provider_code="P001", provider_name="Test Youth Project",
        username="manager", passphrase=PASSPHRASE,
    )  # fmt: skip
    runner = StoreRunner()
    ctx = AppContext(prov, runner)
    try:
        page = SyncPage(ctx)
        qtbot.addWidget(page)
        page.show()
        wait_idle(qtbot, ctx)
        assert not page.offer_box.isVisible()
        page.pack_edit.setText(str(Path(pack)))
        page.code_edit.setText(info["one_time_code"])
        page.join_button.click()
        qtbot.waitUntil(page.offer_box.isVisible, timeout=20_000)
        page.resize(1280, 720)
        page.grab().save(str(tmp_path / "sync-offer.png"))
        offered = [page.offer_framework.itemText(i) for i in range(page.offer_framework.count())]
        assert "Sports-based diversion" in offered and "sports_diversion" not in offered
        page.offer_framework.set_code("mentoring")
        dialog = page.set_up_intervention()
        _loaded(qtbot, dialog)
        assert dialog.framework.code() == "mentoring"
        qtbot.keyClicks(dialog.name, "Trusted mentors")
        _type(qtbot, dialog.setting, "C")
        dialog.save_button.click()
        qtbot.waitUntil(lambda: "is set up" in page.message.text(), timeout=10_000)
        qtbot.waitUntil(
            lambda: page.offer_framework.findData("mentoring") < 0, timeout=10_000
        )  # no longer offered: it has an intervention now
        (row,) = ask(qtbot, runner, interventions.list_interventions, prov)
        assert row["name"] == "Trusted mentors" and row["framework_id"] == "mentoring"
    finally:
        ask(qtbot, runner, prov.close)
        runner.shutdown()
