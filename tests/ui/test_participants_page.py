"""The participant register page: search as you type, filters, new participant, erase."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_idle, wait_ready
from ui.pages.participants import ParticipantsPage
from vrp_desktop.services import enrolments, participants

pytestmark = pytest.mark.gui

PEOPLE = [
    ("Jamal", "Reid", "2010-05-01", "B5 4TJ"),
    ("Jamie", "Oduya", "2008-01-20", "B11 2AA"),
    ("Ava", "Jameson", "2012-09-09", "B5 7RN"),
    ("Zara", "Khan", "2005-03-03", "WS1 1AA"),
    ("Leon", "Baptiste", "2009-07-15", "B21 9PP"),
]


@pytest.fixture
def people(workspace, interventions_by_framework):
    made = {}
    for first, last, dob, postcode in PEOPLE:
        made[first] = participants.create_participant(
            workspace,
            {
                "first_name": first,
                "last_name": last,
                "date_of_birth": dob,
                "gender": "male",
                "ethnicity": "white_british",
                "postcode": postcode,
                "consent_status": "given",
                "consent_date": "2026-01-01",
            },
        )
    enrolments.enrol(
        workspace,
        made["Leon"]["id"],
        interventions_by_framework["mentoring"]["id"],
        {"referral_source": "school", "referral_date": "2026-01-02", "start_date": "2026-01-05"},
    )
    return made


@pytest.fixture
def page(qtbot, unlocked_ctx, people):
    page = ParticipantsPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    wait_ready(qtbot, page.model)
    return page


def test_typing_three_letters_finds_the_right_people(qtbot, page):
    assert len(page.visible_names()) == 5
    page.search.setFocus()
    qtbot.keyClicks(page.search, "jam")
    qtbot.waitUntil(lambda: len(page.visible_names()) == 3, timeout=2000)
    assert sorted(page.visible_names()) == ["Ava Jameson", "Jamal Reid", "Jamie Oduya"]
    # Down moves into the list, Enter opens the person
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    assert page.table.hasFocus() or page.table.currentIndex().row() == 0
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.detail.participant is not None, timeout=2000)
    assert page.detail.participant["display_name"] == page.visible_names()[0]

    page.search.clear()
    qtbot.keyClicks(page.search, "b5")
    qtbot.waitUntil(lambda: sorted(page.visible_districts()) == ["B5", "B5"], timeout=2000)
    page.search.clear()
    qtbot.keyClicks(page.search, "zzq")
    qtbot.waitUntil(lambda: page.list_stack.currentWidget() is page.empty, timeout=2000)
    assert "No one matches" in page.empty.text()


def test_filters(qtbot, page, people, interventions_by_framework):
    def shown() -> list[str]:
        wait_ready(qtbot, page.model)
        return page.visible_names()

    page.intervention.set_code(interventions_by_framework["mentoring"]["id"])
    assert shown() == ["Leon Baptiste"]
    page.intervention.set_code(None)
    page.status.set_code("active")
    assert shown() == ["Leon Baptiste"]
    page.status.set_code("exited")
    assert shown() == []
    page.status.set_code("all")
    page.age_band.set_code("21-24")
    assert shown() == ["Zara Khan"]
    assert page.count.text() == "1 person"


def test_new_participant_form_saves_to_store(qtbot, page, unlocked_ctx):
    page.new_button.click()
    dialog = page.dialog
    form = dialog.form
    qtbot.keyClicks(form.first_name, "Kai")
    # no nagging about fields not reached yet; a required field emptied again says so
    assert form.view.message_for("last_name") == ""
    qtbot.keyClicks(form.last_name, "X")
    qtbot.keyClick(form.last_name, Qt.Key.Key_Backspace)
    assert "last name" in form.view.message_for("last_name").lower()
    qtbot.keyClicks(form.last_name, "Mensah")
    qtbot.keyClicks(form.date_of_birth, "31/02/2011")
    assert "isn't a date" in form.view.message_for("date_of_birth")
    form.date_of_birth.clear()
    qtbot.keyClicks(form.date_of_birth, "03/04/2011")
    assert form.view.message_for("date_of_birth") == ""
    qtbot.keyClicks(form.postcode, "B5 4TJ")
    form.gender.set_code("male")
    form.ethnicity.set_code("black_african")
    form.consent_status.set_code("given")
    assert "consent was given" in form.view.message_for("consent_date")  # not a "required" rule
    qtbot.keyClicks(form.consent_date, "01/03/2026")
    assert not form.view.has_errors
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_idle(qtbot, unlocked_ctx)
    found = participants.list_participants(unlocked_ctx.ws, "kai mensah")
    assert len(found) == 1
    saved = participants.get_participant(unlocked_ctx.ws, found[0]["id"])
    assert saved["postcode_district"] == "B5"
    assert saved["sync_state"] == "valid"
    assert str(saved["date_of_birth"]) == "2011-04-03"
    qtbot.waitUntil(lambda: (page.detail.participant or {}).get("id") == saved["id"])


def test_erase_requires_the_typed_reference(qtbot, page, people, unlocked_ctx):
    zara = people["Zara"]
    page.show_record(zara["id"])
    qtbot.waitUntil(lambda: page.detail.participant is not None, timeout=2000)
    page.detail.erase_button.click()
    dialog = page.detail.dialog
    qtbot.keyClicks(dialog.reason, "Erasure request")
    qtbot.keyClicks(dialog.typed, "YP-WRONG")
    assert not dialog.erase_button.isEnabled()
    dialog.typed.clear()
    qtbot.keyClicks(dialog.typed, zara["reference"].lower())
    assert dialog.erase_button.isEnabled()
    dialog.erase_button.click()
    wait_idle(qtbot, unlocked_ctx)
    wait_idle(qtbot, unlocked_ctx)
    assert participants.get_participant(unlocked_ctx.ws, zara["id"])["erased"]
    assert "Zara Khan" not in page.visible_names()
    assert page.detail_stack.currentWidget() is page.placeholder
    assert f"{zara['reference']} was erased" in page.placeholder.text()


def test_pages_open_records_from_the_main_window(qtbot, main_window, people):
    """ctx.navigate reaches the real pages through the main window and opens the record."""
    leon = people["Leon"]
    main_window.navigate("participants", leon["id"])
    page = main_window.stack.currentWidget()
    assert isinstance(page, ParticipantsPage)
    qtbot.waitUntil(lambda: (page.detail.participant or {}).get("id") == leon["id"])
    from ui.pages.outcomes import OutcomesPage
    from ui.pages.sessions import SessionsPage

    main_window.navigate("sessions", "")
    assert isinstance(main_window.stack.currentWidget(), SessionsPage)
    main_window.navigate("outcomes", leon["id"])
    outcomes_page = main_window.stack.currentWidget()
    assert isinstance(outcomes_page, OutcomesPage)
    qtbot.waitUntil(lambda: (outcomes_page.person or {}).get("id") == leon["id"])
