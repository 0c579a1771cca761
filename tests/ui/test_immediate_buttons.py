"""Alt+letter on a button acts at once, so the keys a worker types straight after it land
where the action put the focus. Qt's own mnemonic click comes ~100 ms after the key (an
animated click); keys typed in that gap went to the button and were lost."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from ui.forms.keyboard import Button
from vrp_desktop.services import enrolments, outcomes, participants

pytestmark = pytest.mark.gui

ANSWERS = [0, 1, 2, 1, 0, 2, 1, 1, 0, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1, 2, 1, 0, 1, 2]
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def mentee(workspace, interventions_by_framework):
    person = participants.create_participant(
        workspace,
        {
            "first_name": "Imani",
            "last_name": "Okafor",
            "date_of_birth": "2012-02-02",
            "gender": "female",
            "ethnicity": "black_african",
            "consent_status": "given",
            "consent_date": "2026-01-01",
        },
    )
    today = dt.date.today()
    enrolments.enrol(
        workspace,
        person["id"],
        interventions_by_framework["mentoring"]["id"],
        {"referral_source": "school", "referral_date": today, "start_date": today},
    )
    return person


def _type(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """One key to whatever has the focus now, with no wait before the next one."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has keyboard focus"
    qtbot.keyClick(target, key, modifier)


def test_alt_r_then_a_digit_at_once_corrects_question_one(qtbot, main_window, workspace, mentee):
    saved = outcomes.record_response(workspace, mentee["id"], "sdq_s11_17", "baseline", ANSWERS)
    main_window.activateWindow()
    main_window.navigate("outcomes", "")
    page = main_window.page("outcomes")
    qtbot.waitUntil(lambda: page.recent.topLevelItemCount() == 1)
    page.recent.setFocus()
    page.recent.setCurrentItem(page.recent.topLevelItem(0))
    _type(qtbot, Qt.Key.Key_Return)  # open the saved questionnaire
    qtbot.waitUntil(lambda: page.opened is not None and page.correct_button.hasFocus())
    assert isinstance(page.correct_button, Button)

    _type(qtbot, Qt.Key.Key_R, ALT)  # Correct…
    _type(qtbot, Qt.Key.Key_2)  # …and question 1's new answer, typed straight after
    assert page.form.answers == [2, *ANSWERS[1:]]

    _type(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Correction saved" in page.banner.text(), timeout=5000)
    stored = outcomes.responses_for(workspace, mentee["id"])
    assert [(r["id"], r["version"], r["answers"][0]) for r in stored] == [(saved["id"], 2, 2)]


@pytest.mark.parametrize("kind", [Button, QPushButton])
def test_only_the_immediate_button_keeps_a_key_typed_straight_after(qtbot, kind):
    """The same two keys with Qt's plain button: the typed letter is lost (why Button exists)."""
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    window = QWidget()
    qtbot.addWidget(window)
    field = QLineEdit(window)
    button = kind("&Go", window)
    button.clicked.connect(lambda: field.setFocus())
    layout = QVBoxLayout(window)
    layout.addWidget(button)
    layout.addWidget(field)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)

    _type(qtbot, Qt.Key.Key_G, ALT)
    _type(qtbot, Qt.Key.Key_A)
    qtbot.wait(300)  # the animated click has happened by now
    assert field.text() == ("a" if kind is Button else "")
