"""Session logging: a whole group session by keyboard only, inline validation, repeat last."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import wait_idle
from ui.forms.session_draft import load_draft
from ui.models.register_model import COL_NOTE
from ui.pages.sessions import SessionsPage
from vrp_desktop.services import enrolments, participants, sessions

pytestmark = pytest.mark.gui

FIRST = [
    "Aisha",
    "Bilal",
    "Caleb",
    "Deja",
    "Eli",
    "Fatima",
    "Grace",
    "Hamza",
    "Imani",
    "Jayden",
    "Kai",
    "Leah",
    "Malik",
    "Nia",
]


@pytest.fixture
def football(workspace, interventions_by_framework):
    """Friday Football with 14 enrolled young people and last week's session (all 14 there)."""
    football = interventions_by_framework["sports_diversion"]
    ids = []
    for i, first in enumerate(FIRST):
        p = participants.create_participant(
            workspace,
            {
                "first_name": first,
                "last_name": f"Test{i:02d}",
                "date_of_birth": "2010-06-01",
                "gender": "female" if i % 2 else "male",
                "ethnicity": "white_british",
                "consent_status": "given",
                "consent_date": "2025-09-01",
            },
        )
        enrolments.enrol(
            workspace,
            p["id"],
            football["id"],
            {"referral_source": "self", "referral_date": "2025-09-01", "start_date": "2025-09-01"},
        )
        ids.append(p["id"])
    last = dt.datetime.now().replace(hour=18, minute=0, second=0, microsecond=0) - dt.timedelta(
        days=8
    )
    sessions.log_session(
        workspace,
        football["id"],
        {
            "starts_at": last,
            "duration_minutes": 120,
            "session_type": "group",
            "mode": "in_person",
            "location_type": "sports_hall",
            "activities": ["football", "conflict_resolution"],
        },
        ids,
    )
    return {"intervention": football, "ids": ids, "last": last}


@pytest.fixture
def page(qtbot, unlocked_ctx, football):
    page = SessionsPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    settle(qtbot, unlocked_ctx)  # the list and the interventions arrive from the store thread
    return page


def _focus():
    return QApplication.focusWidget()


def settle(qtbot, ctx, rounds: int = 8) -> None:
    """Wait until the store has answered everything, including jobs that answers queued."""
    for _ in range(rounds):
        wait_idle(qtbot, ctx)
        if not ctx.runner._callbacks:
            return


def _key(qtbot, key, text_widget=None):
    qtbot.keyClick(text_widget or _focus(), key)


def _tab_to(qtbot, target, limit=25):
    """Press Tab until ``target`` has focus (failing if the tab order never gets there)."""
    for _ in range(limit):
        if _focus() is target:
            return
        qtbot.keyClick(_focus(), Qt.Key.Key_Tab)
    assert _focus() is target, f"Tab never reached {target!r}; stuck at {_focus()!r}"


def test_group_session_by_keyboard_only(qtbot, page, football, unlocked_ctx):
    form = page.form
    page.new_button.setFocus()
    qtbot.keyClick(page.new_button, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert page.stack.currentWidget() is form
    assert _focus() is form.intervention
    qtbot.keyClicks(form.intervention, "Fri")
    assert form.intervention.code() == football["intervention"]["id"]
    settle(qtbot, unlocked_ctx)  # the framework's lists arrive as a person moves on
    _tab_to(qtbot, form.when)
    _tab_to(qtbot, form.duration)
    qtbot.keyClicks(_focus(), "90")
    _tab_to(qtbot, form.session_type)
    qtbot.keyClicks(_focus(), "G")
    _tab_to(qtbot, form.location_type)
    qtbot.keyClicks(_focus(), "Sp")  # Sports hall
    _tab_to(qtbot, form.activities)
    _key(qtbot, Qt.Key.Key_Space)  # Football (first in the list)
    for _ in range(8):
        _key(qtbot, Qt.Key.Key_Down)
    _key(qtbot, Qt.Key.Key_Space)  # Conflict resolution
    _tab_to(qtbot, form.notes)
    qtbot.keyClicks(_focus(), "Good energy tonight")
    view = form.register_panel.view
    _tab_to(qtbot, view)
    settle(qtbot, unlocked_ctx)
    # a group's register is its roster: everyone enrolled, nobody ticked yet
    assert form.register.rowCount() == 14
    assert form.register.ticked_count() == 0
    for i in range(12):
        _key(qtbot, Qt.Key.Key_Space)
        if i == 3:
            _key(qtbot, Qt.Key.Key_2)  # the fourth arrived late
        _key(qtbot, Qt.Key.Key_Down)
    assert form.register.ticked_count() == 12
    assert not form.view.has_errors, form.view.current
    _tab_to(qtbot, form.save_button)
    _key(qtbot, Qt.Key.Key_Space)
    settle(qtbot, unlocked_ctx)
    assert page.stack.currentWidget() is page.list_page
    assert "12 attending" in page.banner.text()

    rows = sessions.list_sessions(unlocked_ctx.ws, intervention_id=football["intervention"]["id"])
    assert len(rows) == 2
    saved = sessions.get_session(unlocked_ctx.ws, rows[0]["id"])
    assert saved["session_type"] == "group"
    assert saved["duration_minutes"] == 90
    assert saved["location_type"] == "sports_hall"
    assert saved["mode"] == "in_person"
    assert saved["staff"] == ["manager"]
    assert saved["activities"] == ["football", "conflict_resolution"]
    assert saved["notes"] == "Good energy tonight"
    assert saved["sync_state"] == "valid", saved["findings"]
    expected = {}
    for i, r in enumerate(form.register.rows()):
        expected[r.participant_id] = "attended" if i < 12 else "absent"
    expected[form.register.rows()[3].participant_id] = "late"
    assert {a["participant_id"]: a["status"] for a in saved["attendees"]} == expected


def test_inline_validation_bad_duration_and_future_date(qtbot, page, football, unlocked_ctx):
    page.new_session()
    form = page.form
    form.intervention.set_code(football["intervention"]["id"])
    settle(qtbot, unlocked_ctx)
    form.duration.setValue(5)
    assert "30" in form.view.message_for("duration_minutes")
    assert "240" in form.view.message_for("duration_minutes")
    form.duration.setValue(90)
    assert form.view.message_for("duration_minutes") == ""
    form.when.setDateTime(form.when.dateTime().addDays(3))
    assert "future" in form.view.message_for("starts_at")
    form.status.set_code("planned")
    assert form.view.message_for("starts_at") == ""
    # fields not reached yet stay quiet until the person tries to save
    assert form.view.message_for("activities") == ""
    form.view.reveal_all = True
    form.revalidate()
    assert "activit" in form.view.message_for("activities").lower()


def test_repeat_last_session_and_draft_autosave(qtbot, page, football, unlocked_ctx):
    page.new_session()
    form = page.form
    form.intervention.set_code(football["intervention"]["id"])
    settle(qtbot, unlocked_ctx)
    form.repeat_button.click()
    settle(qtbot, unlocked_ctx)
    assert form.register.ticked_count() == 14
    assert _focus() is form.register_panel.view
    assert form.duration.value() == 120
    assert form.location_type.code() == "sports_hall"
    assert form.activities.codes() == ["football", "conflict_resolution"]
    assert form.starts_at().time() == football["last"].time()
    # the draft keeps codes and ids only, never the notes
    form.notes.setPlainText("Jamal was upset")
    form.autosave()
    draft = load_draft(form.draft_file)
    assert draft["intervention_id"] == football["intervention"]["id"]
    assert len(draft["register"]) == 14
    assert "notes" not in draft and "Jamal" not in form.draft_file.read_text()
    # closing and reopening the form brings the draft back
    form.close_form()
    page.new_session()
    settle(qtbot, unlocked_ctx)
    assert form.register.ticked_count() == 14
    assert "Restored" in form.banner.text()
    form.save()
    settle(qtbot, unlocked_ctx)
    assert not form.draft_file.exists()
    assert sessions.count_sessions(unlocked_ctx.ws) == 2


def test_walk_in_and_new_participant_without_leaving_the_form(
    qtbot, page, football, unlocked_ctx, workspace
):
    from PySide6.QtWidgets import QMessageBox

    walk_in = participants.create_participant(
        workspace,
        {
            "first_name": "Omar",
            "last_name": "Walkin",
            "date_of_birth": "2011-01-01",
            "gender": "male",
            "ethnicity": "other_arab",
            "consent_status": "not_asked",
        },
    )
    page.new_session()
    form = page.form
    form.intervention.set_code(football["intervention"]["id"])
    settle(qtbot, unlocked_ctx)
    form.register_panel.walk_in_button.click()
    picker = form.dialog
    settle(qtbot, unlocked_ctx)
    # the intervention's own people come first, with their age and reference
    assert picker.search.model.rowCount() == 15
    first = picker.search.model.row(0)
    assert first["state"] == "enrolled" and first["age"] is not None
    assert picker.search.model.row(14)["id"] == walk_in["id"]
    qtbot.keyClicks(picker.search.edit, "walk")
    qtbot.keyClick(picker.search.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.register.row_of(walk_in["id"]) >= 0, timeout=5000)
    settle(qtbot, unlocked_ctx)
    row = form.register.row_of(walk_in["id"])
    assert form.register.rows()[row].ticked
    assert form.register.index(row, COL_NOTE).data() == "Not enrolled"
    offer = form.dialog
    assert isinstance(offer, QMessageBox) and "needs an enrolment" in offer.text()
    offer.button(QMessageBox.StandardButton.No).click()

    form.register_panel.new_button.click()
    dialog = form.dialog
    f = dialog.form
    qtbot.keyClicks(f.first_name, "Nadia")
    qtbot.keyClicks(f.last_name, "Newcomer")
    qtbot.keyClicks(f.date_of_birth, "02/02/2012")
    f.gender.set_code("female")
    f.ethnicity.set_code("mixed_other")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    settle(qtbot, unlocked_ctx)
    assert form.register.ticked_count() == 2, [
        (r.name, r.ticked, r.source) for r in form.register.rows() if r.ticked
    ]
    box = form.dialog
    assert isinstance(box, QMessageBox) and "needs an enrolment" in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    settle(qtbot, unlocked_ctx)
    enrol = form.dialog
    enrol.referral_source.set_code("self")
    enrol.accept()
    settle(qtbot, unlocked_ctx)
    nadia = participants.list_participants(unlocked_ctx.ws, "nadia")[0]
    rows = enrolments.enrolments_for(unlocked_ctx.ws, nadia["id"])
    assert [r["intervention_id"] for r in rows] == [football["intervention"]["id"]]
    assert rows[0]["start_date"] == form.starts_at().date()
    row = form.register.row_of(nadia["id"])
    assert form.register.index(row, COL_NOTE).data() == ""
