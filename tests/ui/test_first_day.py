"""A provider's first day, through the window only, from an empty folder: the set-up wizard,
an intervention from "What do you run?", twelve young people added and enrolled, and the first
group session logged with one absence. No service call sets anything up; the store is read
only at the end, to check it holds exactly what was typed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWizard

from tests.ui.conftest import wait_idle
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.wizard import FirstRunWizard
from ui.worker import StoreRunner
from vrp_desktop.services import enrolments, interventions, participants, sessions

pytestmark = [pytest.mark.gui, pytest.mark.slow]

PASS = "kettle orbit marmalade station"
PEOPLE = [
    ("Amara", "Okafor"), ("Ben", "Hughes"), ("Chloe", "Singh"), ("Dylan", "Murphy"),
    ("Eli", "Baptiste"), ("Farah", "Khan"), ("Gabriel", "Nowak"), ("Hana", "Ali"),
    ("Isaac", "Reid"), ("Jade", "Campbell"), ("Kofi", "Mensah"), ("Leah", "O'Brien"),
]  # fmt: skip


def settle(qtbot, ctx: AppContext, rounds: int = 6) -> None:
    for _ in range(rounds):
        wait_idle(qtbot, ctx, timeout=15_000)


def run_wizard(qtbot, wizard: FirstRunWizard) -> None:
    nxt = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.keyClicks(wizard.provider_page.code, "P021")
    qtbot.keyClicks(wizard.provider_page.name, "Eastside Youth Project")
    qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(wizard.user_page.display_name, "Sam Taylor")
    qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(wizard.passphrase_page.fields.first, PASS)
    qtbot.keyClicks(wizard.passphrase_page.fields.second, PASS)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.recovery_page, timeout=20_000)
    qtbot.mouseClick(wizard.recovery_page.kept, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(nxt, Qt.MouseButton.LeftButton)

    page = wizard.interventions_page  # "What do you run?"
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    qtbot.waitUntil(lambda: bool(dialog.choices), timeout=10_000)
    for widget, typed in (
        (dialog.name, "Friday football"),
        (dialog.framework, "Sp"),  # Sports-based diversion
        (dialog.delivery, "G"),  # Group
        (dialog.weekday, "F"),  # Fridays
        (dialog.time, "18:00"),
        (dialog.setting, "C"),  # Community
        (dialog.location, "Sp"),  # Sports hall
    ):
        widget.setFocus()
        qtbot.keyClicks(widget, typed)
    dialog.minutes.setFocus()
    dialog.minutes.selectAll()
    qtbot.keyClicks(dialog.minutes, "90")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.list.count() == 1, timeout=10_000)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert wizard.result() == QWizard.DialogCode.Accepted


def add_and_enrol(qtbot, window: MainWindow, first: str, last: str) -> None:
    page = window.page("participants")
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    form = dialog.form
    qtbot.keyClicks(form.first_name, first)
    qtbot.keyClicks(form.last_name, last)
    qtbot.keyClicks(form.date_of_birth, "14/05/2010")
    qtbot.keyClicks(form.postcode, "B9 4AA")
    form.gender.set_code(
        "female" if first in ("Amara", "Chloe", "Farah", "Hana", "Jade", "Leah") else "male"
    )
    form.ethnicity.set_code("white_british")
    form.consent_status.set_code("given")
    qtbot.keyClicks(form.consent_date, "01/09/2026")
    assert not form.view.has_errors, form.view
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    record = page.detail
    qtbot.waitUntil(
        lambda: (record.participant or {}).get("display_name", "").startswith(first), timeout=10_000
    )
    qtbot.mouseClick(record.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: getattr(record, "dialog", None) is not None and record.dialog.isVisible(),
        timeout=10_000,
    )
    enrol = record.dialog
    if enrol.intervention.code() is None:
        enrol.intervention.setFocus()
        qtbot.keyClicks(enrol.intervention, "Fri")
    enrol.referral_source.setFocus()
    qtbot.keyClicks(enrol.referral_source, "Self")
    assert enrol.referral_source.code() == "self"
    qtbot.mouseClick(_save_button(enrol), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len((record.data or {}).get("enrolments", [])) == 1, timeout=10_000)


def _save_button(dialog):
    from PySide6.QtWidgets import QDialogButtonBox

    box = dialog.findChild(QDialogButtonBox)
    return box.button(QDialogButtonBox.StandardButton.Save)


def start_from_nothing(qtbot, folder, app_settings) -> tuple[MainWindow, StoreRunner]:
    """The first run on an empty folder: the wizard, then the window it unlocks."""
    runner = StoreRunner()
    wizard = FirstRunWizard(folder, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    run_wizard(qtbot, wizard)
    window = MainWindow(folder, runner=runner, settings=app_settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show_unlocked(wizard.workspace)
    window.show()
    qtbot.waitExposed(window)
    return window, runner


def test_first_day_from_an_empty_folder_through_the_window(qtbot, tmp_path, app_settings):
    window, runner = start_from_nothing(qtbot, tmp_path / "eastside", app_settings)
    try:
        ctx = window.ctx
        window.navigate("participants", "")
        settle(qtbot, ctx)
        for first, last in PEOPLE:
            add_and_enrol(qtbot, window, first, last)
            settle(qtbot, ctx, rounds=2)

        # the first group session: Today's button opens the form; the register is the roster
        window.navigate("today", "")
        settle(qtbot, ctx)
        qtbot.mouseClick(window.page("today").log_button, Qt.MouseButton.LeftButton)
        page = window.page("sessions")
        form = page.form
        assert page.stack.currentWidget() is form
        settle(qtbot, ctx)
        form.intervention.setFocus()
        qtbot.keyClicks(form.intervention, "Fri")
        settle(qtbot, ctx)
        assert form.session_type.code() == "group"  # from the intervention's usual delivery
        assert form.duration.value() == 90  # and its usual length
        qtbot.waitUntil(lambda: form.register.rowCount() == 12, timeout=10_000)
        view = form.register_panel.view
        view.setFocus()
        absent_row = form.register.row_of(
            next(r.participant_id for r in form.register.rows() if r.name.startswith("Gabriel"))
        )
        for row in range(12):  # the first week: 1 (attended) on each row, 0 (absent) on one
            view.setCurrentIndex(form.register.index(row, 0))
            qtbot.keyClick(view, Qt.Key.Key_0 if row == absent_row else Qt.Key.Key_1)
        form.activities.setFocus()  # Football is first; Space ticks it
        form.activities.setCurrentRow(0)
        qtbot.keyClick(form.activities, Qt.Key.Key_Space)
        assert form.activities.codes() == ["football"]
        asked: list[str] = []

        def answer_modal() -> None:  # a question over the form would be a finding: note it
            modal = QApplication.activeModalWidget()
            if modal is not None:
                asked.append(getattr(modal, "text", lambda: modal.windowTitle())())
                asked.append(getattr(modal, "labelText", lambda: "")())
                modal.reject()

        QTimer.singleShot(3000, answer_modal)
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
        qtbot.wait(3500)
        assert not asked, asked
        qtbot.waitUntil(lambda: page.stack.currentWidget() is not form, timeout=15_000)
        settle(qtbot, ctx)

        # the store holds exactly what was typed, and nothing else
        def stored(ws):
            (fb,) = interventions.list_interventions(ws, active_only=False)
            people = participants.list_participants(ws, "", limit=100)
            enrolled = [e for p in people for e in enrolments.enrolments_for(ws, p["id"])]
            logged = sessions.list_sessions(ws, limit=10)
            detail = sessions.get_session(ws, logged[0]["id"]) if logged else None
            return fb, people, enrolled, logged, detail

        answers: list = []
        ctx.read(stored, on_done=answers.append, on_error=answers.append)
        qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
        assert not isinstance(answers[0], BaseException), answers[0]
        fb, people, enrolled, logged, detail = answers[0]
        assert fb["name"] == "Friday football" and fb["delivery"] == "group"
        assert sorted(p["display_name"] for p in people) == sorted(f"{f} {s}" for f, s in PEOPLE)
        assert len(enrolled) == 12 and {e["intervention_id"] for e in enrolled} == {fb["id"]}
        assert len(logged) == 1
        statuses = sorted(a["status"] for a in detail["attendees"])
        assert statuses == ["absent"] + ["attended"] * 11  # the absence is stored
        absent = next(a for a in detail["attendees"] if a["status"] == "absent")
        assert absent["participant_id"] == next(
            p["id"] for p in people if p["display_name"].startswith("Gabriel")
        )
        assert QApplication.activeModalWidget() is None
    finally:
        window.shutdown()
        runner.shutdown()
