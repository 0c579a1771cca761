"""Questionnaires: SDQ by number keys, live scores equal to `vrp measure score`, saved scores."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_idle
from ui.pages.outcomes import OutcomesPage
from vrp_desktop.services import enrolments, outcomes, participants

pytestmark = pytest.mark.gui

# 25 SDQ answers typed as keys; "-" marks item 7 missing (prorated conduct subscale)
KEYS = "0121201-210212012021102120"[:25]


@pytest.fixture
def mentee(workspace, interventions_by_framework):
    p = participants.create_participant(
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
        p["id"],
        interventions_by_framework["mentoring"]["id"],
        {"referral_source": "school", "referral_date": today, "start_date": today},
    )
    return p


def _cli_scores(answers: list[int | None]) -> dict:
    args = ["-" if a is None else str(a) for a in answers]
    out = subprocess.run(
        [sys.executable, "-m", "vrp_desktop.cli", "measure", "score", "sdq_s11_17", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_sdq_by_number_keys_live_scores_and_saved(qtbot, unlocked_ctx, mentee):
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)

    qtbot.keyClicks(page.search.edit, "oka")
    qtbot.keyClick(page.search.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.person is not None, timeout=5000)
    wait_idle(qtbot, unlocked_ctx)
    assert page.person["id"] == mentee["id"]
    page.measure.set_code(next(k for k in page.choices if k.startswith("sdq_s11_17|")))
    page.timepoint.set_code("baseline")
    form = page.form
    assert form is not None and form.measure.id == "sdq_s11_17"
    form.setFocus()
    # a wrong key first, then Backspace clears it
    qtbot.keyClick(form, Qt.Key.Key_2)
    qtbot.keyClick(form, Qt.Key.Key_Up)
    qtbot.keyClick(form, Qt.Key.Key_Backspace)
    assert form.answers[0] is None and form.current == 0
    for ch in KEYS:
        qtbot.keyClicks(form, ch)
    expected_answers = [None if ch == "-" else int(ch) for ch in KEYS]
    assert form.answers == expected_answers
    assert form.unanswered() == []

    cli = _cli_scores(expected_answers)
    assert page.scores.shown_scores() == cli["scores"]
    assert page.scores.result["bands"] == cli["bands"]
    assert any("prorated" in note for note in cli["notes"])
    assert "prorated" in page.scores.notes.text()
    total = page.scores.findChild(type(page.who), "score_total_difficulties")
    assert total.text() == f"{cli['scores']['total_difficulties']:g}"
    assert not page.view.has_errors, page.view.current

    page.save_button.click()
    wait_idle(qtbot, unlocked_ctx)
    wait_idle(qtbot, unlocked_ctx)
    saved = outcomes.responses_for(unlocked_ctx.ws, mentee["id"])
    assert len(saved) == 1
    assert saved[0]["answers"] == expected_answers
    assert saved[0]["scores"] == cli["scores"]
    assert saved[0]["bands"] == cli["bands"]
    assert saved[0]["timepoint"] == "baseline"
    assert saved[0]["sync_state"] == "valid", saved[0]["findings"]
    assert "Questionnaire saved" in page.banner.text()
    assert page.recent.topLevelItemCount() == 1
    # after a save nothing of it is left on screen: no scores, no findings
    assert not any(page.scores.shown_scores().values())
    assert "0 of" in page.scores.notes.text() or page.scores.notes.text() == ""
    assert page.view.message_for("completed_on") == ""
    assert not page.view.summary.text()


def test_timepoint_window_warning_inline(qtbot, unlocked_ctx, mentee):
    page = OutcomesPage(unlocked_ctx)
    qtbot.addWidget(page)
    page.choose_participant(mentee)
    wait_idle(qtbot, unlocked_ctx)
    page.measure.set_code(next(k for k in page.choices if k.startswith("sdq_s11_17|")))
    page.timepoint.set_code("baseline")
    page.completed_on.set_date(dt.date.today() - dt.timedelta(days=60))
    assert "due from" in page.view.message_for("completed_on")
    page.completed_on.set_date(dt.date.today())
    assert page.view.message_for("completed_on") == ""
